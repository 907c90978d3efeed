package world_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/world"
)

// A truncated world document says where it ends (byte and line), not a
// bare "unexpected EOF".
func TestReadTruncatedDocument(t *testing.T) {
	doc := "{\n  \"version\": 1,\n  \"tenants\": [\n    {\"tenantId\": \"0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60\", \"name\": \"Fab"
	_, err := world.Read(strings.NewReader(doc), "world.json")
	want := "world document world.json: the document ends early at byte 102 (line 4): an object, array or string is not closed; the file is truncated or was not completely written"
	if err == nil || err.Error() != want || partnerlink.ErrorCode(err) != partnerlink.EINVALID {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	// Cut anywhere after its first non-blank byte, a real document says
	// the same, with its own byte and line.
	data, err := os.ReadFile("testdata/azure-basic.json")
	if err != nil {
		t.Fatal(err)
	}
	for cut := 1; cut < len(bytes.TrimRight(data, " \r\n")); cut++ {
		_, err := world.Read(bytes.NewReader(data[:cut]), "world.json")
		want := fmt.Sprintf("world document world.json: the document ends early at byte %d (line %d): an object, array or string is not closed; the file is truncated or was not completely written",
			cut, bytes.Count(data[:cut], []byte("\n"))+1)
		if err == nil || err.Error() != want {
			t.Fatalf("cut at byte %d: got %v\nwant %s", cut, err, want)
		}
	}
}
