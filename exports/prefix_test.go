package exports

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"gocloud.dev/blob/memblob"
)

// docs/usage-sources.md: a manifest cannot make partnerlink read a blob
// outside the source's prefix, even in the same container.
func TestPartKeyStaysUnderThePrefix(t *testing.T) {
	ctx := context.Background()
	b := memblob.OpenBucket(nil)
	for _, k := range []string{"exports/focus/run-1/part_0.csv", "private/salaries.csv"} {
		if err := b.WriteAll(ctx, k, []byte("x"), nil); err != nil {
			t.Fatal(err)
		}
	}
	s := &Source{URL: "azblob://c/exports", bucket: b, prefix: "exports/"}
	r := Run{ManifestKey: "exports/focus/run-1/manifest.json"}
	if key, err := s.PartKey(ctx, r, Part{BlobName: "exports/focus/run-1/part_0.csv"}); err != nil || key != "exports/focus/run-1/part_0.csv" {
		t.Errorf("a part under the prefix: %q %v", key, err)
	}
	for _, name := range []string{"private/salaries.csv", "/private/salaries.csv", "exports/../private/salaries.csv"} {
		if key, err := s.PartKey(ctx, r, Part{BlobName: name}); err == nil || !strings.Contains(err.Error(), "under the source's prefix only") {
			t.Errorf("part %s resolved to %q (%v); want it refused", name, key, err)
		}
	}
}

// A credential put in a source's query is never shown.
func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"azblob://c/p?domain=127.0.0.1:10000&protocol=http":   "azblob://c/p?domain=127.0.0.1%3A10000&protocol=http",
		"azblob://c/p?sig=s3cr3t&sv=2024":                     "azblob://c/p?sig=REDACTED&sv=REDACTED",
		"file:///data/exports":                                "file:///data/exports",
		"s3://b/p?endpoint=http://AKIA:TOPSECRET@127.0.0.1:1": "s3://b/p?endpoint=http%3A%2F%2FAKIA%3Axxxxx%40127.0.0.1%3A1",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	// A storage client's error names its request, SAS and all (a token
	// from AZURE_STORAGE_SAS_TOKEN): the text shown has none of it.
	err := fmt.Errorf("list: %w", errors.New(`Get "http://127.0.0.1:1/devstoreaccount1/c?comp=list&restype=container&sig=TOPSECRET%3D&sv=2021": dial tcp 127.0.0.1:1: connect: connection refused`))
	got := RedactError(err)
	if strings.Contains(got.Error(), "TOPSECRET") || !strings.Contains(got.Error(), "sig=REDACTED") || !strings.Contains(got.Error(), "connection refused") {
		t.Errorf("RedactError: %v", got)
	}
	if !errors.Is(got, errors.Unwrap(err)) {
		t.Error("RedactError does not wrap the error")
	}
}
