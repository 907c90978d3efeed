package usage

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

// An imported file is named by the SHA-256 of its bytes (docs/api.md#focus-usage):
// copyHashing writes every byte and hashes exactly those, whatever the
// reader's pieces; an error reading or writing is returned.
func TestCopyHashing(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 1<<20 - 1, 1 << 20, 3<<20 + 7} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rng.IntN(256))
		}
		// Whole, in halves, and (a prefix) a byte at a time.
		for _, c := range []struct {
			r    io.Reader
			want []byte
		}{
			{bytes.NewReader(data), data},
			{iotest.HalfReader(bytes.NewReader(data)), data},
			{iotest.OneByteReader(bytes.NewReader(data[:min(n, 5000)])), data[:min(n, 5000)]},
		} {
			var out bytes.Buffer
			got, err := copyHashing(&out, c.r)
			sum := sha256.Sum256(c.want)
			if err != nil || got != hex.EncodeToString(sum[:]) || !bytes.Equal(out.Bytes(), c.want) {
				t.Fatalf("%d bytes: hash %s, %v; want %x and the bytes", len(c.want), got, err, sum)
			}
		}
	}
	boom := errors.New("boom")
	if _, err := copyHashing(io.Discard, iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("a reader's error: %v", err)
	}
	if _, err := copyHashing(failWriter{boom}, bytes.NewReader(make([]byte, 3<<20))); !errors.Is(err, boom) {
		t.Errorf("a writer's error: %v", err)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }
