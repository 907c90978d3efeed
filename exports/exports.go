// Package exports reads cost exports where they are written: Azure Cost
// Management's FOCUS exports in a storage container (or the same layout in
// S3, Google Cloud Storage or a local folder), one folder per export run
// with a manifest.json that lists its parts (docs/usage-sources.md). A run
// is imported through its manifest, all or nothing, once; a later run of
// the same export and period supersedes the earlier one.
//
// Storage is reached through gocloud.dev/blob, with each cloud's standard
// settings (docs/usage-sources.md, "Credentials").
package exports

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/azureblob" // azblob://
	_ "gocloud.dev/blob/fileblob"  // file://
	_ "gocloud.dev/blob/gcsblob"   // gs://
	_ "gocloud.dev/blob/s3blob"    // s3://
	"gocloud.dev/gcerrors"

	"github.com/partnerlink/partnerlink"
)

// Schemes are the source URL schemes partnerlink reads.
var Schemes = []string{"azblob", "s3", "gs", "file"}

// IsSource reports whether arg names an export source (a URL of one of
// Schemes) rather than a local file.
func IsSource(arg string) bool {
	scheme, _, ok := strings.Cut(arg, "://")
	return ok && slices.Contains(Schemes, scheme)
}

// ManifestName is the file that lists an export run's parts.
const ManifestName = "manifest.json"

// Manifest is what partnerlink reads of an export run's manifest.json.
type Manifest struct {
	ManifestVersion string `json:"manifestVersion"`
	ByteCount       int64  `json:"byteCount"`
	BlobCount       int    `json:"blobCount"`
	DataRowCount    int64  `json:"dataRowCount"`
	ExportConfig    struct {
		ExportName string `json:"exportName"`
		Type       string `json:"type"`
	} `json:"exportConfig"`
	RunInfo struct {
		RunID         string `json:"runId"`
		SubmittedTime string `json:"submittedTime"`
		StartDate     string `json:"startDate"`
		EndDate       string `json:"endDate"`
	} `json:"runInfo"`
	Blobs []Part `json:"blobs"`
}

// Part is one file of a run.
type Part struct {
	BlobName     string `json:"blobName"`
	ByteCount    int64  `json:"byteCount"`
	DataRowCount int64  `json:"dataRowCount"`
}

// Source is an export location: a bucket (container) and a prefix in it.
type Source struct {
	URL    string // as given, without credentials
	bucket *blob.Bucket
	prefix string
}

// Open opens the source at rawURL: scheme://bucket/prefix[?driver options].
// For file:// the whole path is the folder read. Credentials come from
// each cloud's standard settings, never from the URL's user part.
func Open(ctx context.Context, rawURL string) (*Source, error) {
	u, err := url.Parse(rawURL)
	if err != nil || !IsSource(rawURL) {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "usage source %q: expected azblob://CONTAINER/PREFIX, s3://BUCKET/PREFIX, gs://BUCKET/PREFIX or file:///FOLDER", rawURL)
	}
	if u.User != nil {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "usage source %q: put no credentials in the URL; use the storage's standard settings (docs/usage-sources.md)", u.Redacted())
	}
	bucketURL, prefix := *u, ""
	if u.Scheme != "file" {
		bucketURL.Path, prefix = "", strings.Trim(u.Path, "/")
		if prefix != "" {
			prefix += "/"
		}
	}
	b, err := blob.OpenBucket(ctx, bucketURL.String())
	if err != nil {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "usage source %s: %v", rawURL, err)
	}
	return &Source{URL: rawURL, bucket: b, prefix: prefix}, nil
}

// Close releases the source.
func (s *Source) Close() error { return s.bucket.Close() }

// Run is one export run found at a source.
type Run struct {
	// Manifest is the manifest's key in the bucket; Hash the SHA-256 of its bytes.
	ManifestKey string
	Hash        string
	Manifest    Manifest
	// Export names the export and period a run supersedes earlier runs of:
	// the source, the export's name (its folder when the manifest names
	// none) and the period.
	Export      string
	SubmittedAt time.Time
}

// Key identifies the run: the same manifest, byte for byte, at the same
// place is the same run.
func (r Run) Key() string { return r.ManifestKey + "@" + r.Hash }

// Runs lists the export runs under the source's prefix, oldest first. A
// manifest that cannot be read fails the listing, naming it.
func (s *Source) Runs(ctx context.Context) ([]Run, error) {
	var runs []Run
	it := s.bucket.List(&blob.ListOptions{Prefix: s.prefix})
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, s.errorf(err, "list %s", s.prefix)
		}
		if obj.IsDir || path.Base(obj.Key) != ManifestName {
			continue
		}
		r, err := s.readManifest(ctx, obj.Key)
		if err != nil {
			return nil, err
		}
		runs = append(runs, *r)
	}
	slices.SortFunc(runs, func(a, b Run) int {
		return cmp.Or(a.SubmittedAt.Compare(b.SubmittedAt), strings.Compare(a.ManifestKey, b.ManifestKey))
	})
	return runs, nil
}

func (s *Source) readManifest(ctx context.Context, key string) (*Run, error) {
	b, err := s.bucket.ReadAll(ctx, key)
	if err != nil {
		return nil, s.errorf(err, "read %s", key)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "%s: manifest %s: %v", s.URL, key, err)
	}
	if len(m.Blobs) == 0 {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "%s: manifest %s lists no parts (\"blobs\")", s.URL, key)
	}
	if m.BlobCount != 0 && m.BlobCount != len(m.Blobs) {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "%s: manifest %s says blobCount %d but lists %d parts", s.URL, key, m.BlobCount, len(m.Blobs))
	}
	for i, p := range m.Blobs {
		if p.BlobName == "" {
			return nil, partnerlink.Errorf(partnerlink.EINVALID, "%s: manifest %s: blobs[%d] has no blobName", s.URL, key, i)
		}
	}
	sum := sha256.Sum256(b)
	r := &Run{ManifestKey: key, Hash: hex.EncodeToString(sum[:]), Manifest: m}
	if m.RunInfo.SubmittedTime != "" {
		if r.SubmittedAt, err = parseInstant(m.RunInfo.SubmittedTime); err != nil {
			return nil, partnerlink.Errorf(partnerlink.EINVALID, "%s: manifest %s: runInfo.submittedTime %q: expected an ISO 8601 instant", s.URL, key, m.RunInfo.SubmittedTime)
		}
	}
	name := m.ExportConfig.ExportName
	if name == "" {
		// Azure's layout: EXPORT/PERIOD/RUN/manifest.json.
		name = path.Dir(path.Dir(path.Dir(key)))
	}
	r.Export = s.URL + "#" + name + "#" + m.RunInfo.StartDate + "/" + m.RunInfo.EndDate
	return r, nil
}

// parseInstant reads the instants manifests carry, with or without a zone
// (without: UTC) and with any fraction of a second.
func parseInstant(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("not an instant")
}

// PartKey resolves a part's blobName: a path in the container as Azure
// writes it, else a path relative to the manifest's folder (a run copied
// elsewhere).
func (s *Source) PartKey(ctx context.Context, r Run, p Part) (string, error) {
	name := strings.TrimPrefix(p.BlobName, "/")
	for _, key := range []string{name, path.Join(path.Dir(r.ManifestKey), path.Base(name))} {
		ok, err := s.bucket.Exists(ctx, key)
		if err != nil {
			return "", s.errorf(err, "look up part %s", key)
		}
		if ok {
			return key, nil
		}
	}
	return "", partnerlink.Errorf(partnerlink.EINVALID, "%s: export run %s: part %s is missing", s.URL, r.ManifestKey, p.BlobName)
}

// Open reads a part.
func (s *Source) OpenPart(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	attrs, err := s.bucket.Attributes(ctx, key)
	if err != nil {
		return nil, 0, s.errorf(err, "read part %s", key)
	}
	rd, err := s.bucket.NewReader(ctx, key, nil)
	if err != nil {
		return nil, 0, s.errorf(err, "read part %s", key)
	}
	return rd, attrs.Size, nil
}

// errorf words a storage error with the source's URL and what was done.
func (s *Source) errorf(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	code := partnerlink.EINTERNAL
	switch gcerrors.Code(err) {
	case gcerrors.NotFound:
		code = partnerlink.ENOTFOUND
	case gcerrors.PermissionDenied, gcerrors.InvalidArgument, gcerrors.FailedPrecondition:
		code = partnerlink.EINVALID
	}
	return partnerlink.Errorf(code, "usage source %s: %s: %v", s.URL, what, err)
}
