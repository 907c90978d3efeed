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
	"regexp"
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

// SourceForms are the storage URLs accepted, for messages.
const SourceForms = "azblob://CONTAINER/PREFIX, s3://BUCKET/PREFIX, gs://BUCKET/PREFIX or file:///FOLDER"

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
		// ResourceID is the export's scope (a subscription, billing
		// account…): export names are unique within a scope only.
		ResourceID string `json:"resourceId"`
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
	URL    string // as given, with the values of query options not known to be harmless hidden (Redact)
	bucket *blob.Bucket
	prefix string
	// root names the bucket whatever the URL's spelling: scheme://host for
	// a cloud bucket, file:// and the cleaned folder for a local one.
	root string
}

// Open opens the source at rawURL: scheme://bucket/prefix[?driver options].
// For file:// the whole path is the folder read. Credentials come from
// each cloud's standard settings, never from the URL's user part.
func Open(ctx context.Context, rawURL string) (*Source, error) {
	b, prefix, err := OpenBucket(ctx, "usage source", rawURL)
	if err != nil {
		return nil, err
	}
	return &Source{URL: Redact(rawURL), bucket: b, prefix: prefix, root: bucketRoot(rawURL)}, nil
}

// bucketRoot is the place of a source URL's bucket, the same however the
// URL is spelled (a trailing slash, another prefix, driver options).
func bucketRoot(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	if u.Scheme == "file" {
		return "file://" + path.Clean("/"+u.Path)
	}
	return u.Scheme + "://" + strings.ToLower(u.Host)
}

// OpenBucket opens the bucket of a storage URL (one of Schemes) and returns
// it with the URL's prefix in it ("" or ending in "/"; for file:// the path
// is the bucket). what names the URL in errors ("usage source").
func OpenBucket(ctx context.Context, what, rawURL string) (*blob.Bucket, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || !IsSource(rawURL) {
		return nil, "", partnerlink.Errorf(partnerlink.EINVALID, "%s %q: expected %s", what, Redact(rawURL), SourceForms)
	}
	if u.User != nil {
		return nil, "", partnerlink.Errorf(partnerlink.EINVALID, "%s %q: put no credentials in the URL; use the storage's standard settings (docs/usage-sources.md)", what, Redact(rawURL))
	}
	if u.Scheme != "file" && u.Host == "" {
		return nil, "", partnerlink.Errorf(partnerlink.EINVALID, "%s %q names no container or bucket: expected %s", what, Redact(rawURL), SourceForms)
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
		return nil, "", partnerlink.Errorf(partnerlink.EINVALID, "%s %s: %s", what, Redact(rawURL), RedactText(err.Error()))
	}
	return b, prefix, nil
}

// plainOptions are the query options of the storage drivers that carry no
// secret; every other option's value is hidden where a source is shown.
var plainOptions = []string{"domain", "protocol", "localemu", "localemulator", "storage_account", "cdn", "region", "endpoint", "profile",
	"hostname_immutable", "disable_https", "use_path_style", "awssdk", "anonymous", "prefix", "metadata"}

// Redact is rawURL as logs, errors and the store show it: a query option
// that is not known to be harmless (a SAS signature, a key) has its value
// replaced, so a credential put there by mistake is never written out.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(an unparsable URL)"
	}
	if u.RawQuery == "" {
		return u.Redacted()
	}
	q := u.Query()
	for k, vs := range q {
		for i, v := range vs {
			if !slices.Contains(plainOptions, strings.ToLower(k)) {
				vs[i] = "REDACTED"
			} else if inner, err := url.Parse(v); err == nil && inner.User != nil {
				// A harmless option whose value is a URL with a user part
				// (endpoint=http://KEY:SECRET@host).
				vs[i] = inner.Redacted()
			}
		}
	}
	u.RawQuery = q.Encode()
	return u.Redacted()
}

// urlInText finds the URLs an error's text may hold: a storage client's
// error names the request it sent, query (a SAS signature) and all.
var urlInText = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+`)

// RedactText is an error's text with every URL in it as Redact shows it.
func RedactText(text string) string {
	return urlInText.ReplaceAllStringFunc(text, Redact)
}

// RedactError is err with the text RedactText makes of it, still
// wrapping err (errors.Is and errors.As see through it).
func RedactError(err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: RedactText(err.Error()), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Close releases the source.
func (s *Source) Close() error { return s.bucket.Close() }

// Run is one export run found at a source.
type Run struct {
	// Manifest is the manifest's key in the bucket; Hash the SHA-256 of its bytes.
	ManifestKey string
	Hash        string
	Manifest    Manifest
	// Export names the export and period a run supersedes earlier runs of:
	// the export's folder in its bucket (above the period's folder), its
	// scope, its name and the period (exportKey).
	Export string
	// FormerExport is Export as releases before December 2026 wrote it (the
	// source URL as typed, the name and the period): runs recorded so are
	// taken for the same export.
	FormerExport string
	SubmittedAt  time.Time
}

// Key identifies the run: the same manifest, byte for byte, at the same
// place is the same run.
func (r Run) Key() string { return r.ManifestKey + "@" + r.Hash }

// Runs lists the export runs under the source's prefix, oldest first. The
// manifests that cannot be read are left out and named in the error, which
// comes with the runs that could: one broken run does not hold back the
// others. A listing that fails returns no runs.
func (s *Source) Runs(ctx context.Context) ([]Run, error) {
	var runs []Run
	var bad []error
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
		r, err := s.readManifest(ctx, obj.Key, obj.Size)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		runs = append(runs, *r)
	}
	slices.SortFunc(runs, func(a, b Run) int {
		return cmp.Or(a.SubmittedAt.Compare(b.SubmittedAt), strings.Compare(a.ManifestKey, b.ManifestKey))
	})
	return runs, errors.Join(bad...)
}

// maxManifest bounds a manifest's size: Azure's list a few hundred parts in
// a few hundred KiB, and a source is read at every poll.
const maxManifest = 4 << 20

func (s *Source) readManifest(ctx context.Context, key string, size int64) (*Run, error) {
	if size > maxManifest {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "%s: manifest %s is %d bytes; at most %d are read", s.URL, key, size, maxManifest)
	}
	rd, err := s.bucket.NewReader(ctx, key, nil)
	if err != nil {
		return nil, s.errorf(err, "read %s", key)
	}
	defer rd.Close()
	b, err := io.ReadAll(io.LimitReader(rd, maxManifest+1))
	if err != nil {
		return nil, s.errorf(err, "read %s", key)
	}
	if len(b) > maxManifest {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "%s: manifest %s is over %d bytes", s.URL, key, maxManifest)
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
	seen := map[string]int{}
	for i, p := range m.Blobs {
		if p.BlobName == "" {
			return nil, partnerlink.Errorf(partnerlink.EINVALID, "%s: manifest %s: blobs[%d] has no blobName", s.URL, key, i)
		}
		if j, ok := seen[p.BlobName]; ok {
			return nil, partnerlink.Errorf(partnerlink.EINVALID, "%s: manifest %s lists part %s twice (blobs[%d] and blobs[%d]); a run lists each part once",
				s.URL, key, p.BlobName, j, i)
		}
		seen[p.BlobName] = i
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
	period := m.RunInfo.StartDate + "/" + m.RunInfo.EndDate
	place := s.root
	if folder := exportFolder(key); folder != "" && folder != "." {
		place = strings.TrimSuffix(place, "/") + "/" + folder
	}
	r.Export = place + "#" + strings.ToLower(m.ExportConfig.ResourceID) + "#" + name + "#" + period
	r.FormerExport = s.URL + "#" + name + "#" + period
	return r, nil
}

// periodFolder is the folder of one period of an export, as Azure names it
// (20260301-20260331).
var periodFolder = regexp.MustCompile(`^\d{8}-\d{8}$`)

// exportFolder is the folder of the export a manifest belongs to: the path
// above its period's folder (Azure's EXPORT/PERIOD/…/manifest.json), else
// the folder above the run's. Two exports of one name (two scopes, two
// directories) are apart by it.
func exportFolder(key string) string {
	segs := strings.Split(path.Dir(key), "/")
	for i := len(segs) - 1; i >= 0; i-- {
		if periodFolder.MatchString(segs[i]) {
			return strings.Join(segs[:i], "/")
		}
	}
	return path.Dir(path.Dir(key))
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
// elsewhere). Either must lie under the source's prefix: a manifest cannot
// make partnerlink read other blobs of the container.
func (s *Source) PartKey(ctx context.Context, r Run, p Part) (string, error) {
	name := strings.TrimPrefix(p.BlobName, "/")
	for _, key := range []string{name, path.Join(path.Dir(r.ManifestKey), path.Base(name))} {
		if path.Clean(key) != key || strings.HasPrefix(key, "../") || !strings.HasPrefix(key, s.prefix) {
			continue
		}
		ok, err := s.bucket.Exists(ctx, key)
		if err != nil {
			return "", s.errorf(err, "look up part %s", key)
		}
		if ok {
			return key, nil
		}
	}
	return "", partnerlink.Errorf(partnerlink.EINVALID, "%s: export run %s: part %s is missing (parts are read under the source's prefix only)", s.URL, r.ManifestKey, p.BlobName)
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
	return partnerlink.Errorf(code, "usage source %s: %s: %s", s.URL, what, RedactText(err.Error()))
}
