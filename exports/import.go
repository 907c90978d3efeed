package exports

import (
	"context"
	"errors"
	"io"
	"path"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/usage"
)

// Store is what an import of export runs records in.
type Store interface {
	usage.Recorder
	ExportRun(ctx context.Context, key string) (*partnerlink.ExportRun, error)
	RecordExportRun(ctx context.Context, run partnerlink.ExportRun, files []partnerlink.UsageImport) (bool, error)
}

// Imported tells what an import of a run did.
type Imported struct {
	Run     partnerlink.ExportRun
	Already bool // the run was imported before; nothing changed
	// New counts the parts whose content was not imported before.
	New int
}

// Progress, when not nil, wraps each part's reader (a progress bar):
// it gets the part's name and size.
type Progress func(name string, size int64, r io.Reader) io.Reader

// Import reads one export run through its manifest, all or nothing: every
// part is staged in the data directory and validated whole, its size and
// rows checked against the manifest; only then are the new files kept and
// the run recorded, in one transaction. A run imported before changes
// nothing (docs/usage-sources.md).
func (s *Source) Import(ctx context.Context, store Store, dataDir string, r Run, now time.Time, progress Progress) (*Imported, error) {
	if prev, err := store.ExportRun(ctx, r.Key()); err == nil {
		return &Imported{Run: *prev, Already: true}, nil
	} else if partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		return nil, err
	}
	run := partnerlink.ExportRun{Key: r.Key(), Source: s.URL, Export: r.Export, FormerExport: r.FormerExport,
		SubmittedAt: r.SubmittedAt, ImportedAt: now.UTC()}
	var staged []*usage.Staged
	defer func() {
		for _, st := range staged {
			st.Discard()
		}
	}()
	var files []partnerlink.UsageImport
	holds := map[string]string{} // a part's content digest → the part
	for _, p := range r.Manifest.Blobs {
		st, err := s.stagePart(ctx, store, dataDir, r, p, now, progress)
		if err != nil {
			return nil, err
		}
		staged = append(staged, st)
		// Two parts of one run with the same rows (p0.csv beside p0.csv.gz)
		// would count them twice: the run is inconsistent.
		for _, k := range []string{"hash:" + st.Import.Hash, "content:" + st.Import.Content} {
			if k == "content:" {
				continue
			}
			if other, ok := holds[k]; ok {
				return nil, partnerlink.Errorf(partnerlink.EINVALID, "%s: export run %s: parts %s and %s hold the same usage rows; nothing was imported",
					s.URL, r.ManifestKey, other, p.BlobName)
			}
			holds[k] = p.BlobName
		}
		run.Files = append(run.Files, st.Import.Hash)
		run.Rows += st.Import.Rows
		if st.Previous == nil {
			files = append(files, st.Import)
		}
	}
	if m := r.Manifest.DataRowCount; m > 0 && m != run.Rows {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "%s: export run %s: the parts hold %d rows, the manifest says dataRowCount %d; nothing was imported",
			s.URL, r.ManifestKey, run.Rows, m)
	}
	var kept []*usage.Staged
	unkeep := func() {
		for _, st := range kept {
			st.Unkeep()
		}
	}
	for _, st := range staged {
		if err := st.Keep(); err != nil {
			unkeep()
			return nil, err
		}
		kept = append(kept, st)
	}
	created, err := store.RecordExportRun(ctx, run, files)
	if err != nil {
		unkeep()
		return nil, err
	}
	if !created { // imported by another process meanwhile
		prev, err := store.ExportRun(ctx, r.Key())
		if err != nil {
			return nil, err
		}
		return &Imported{Run: *prev, Already: true}, nil
	}
	return &Imported{Run: run, New: len(files)}, nil
}

// stagePart reads one part into the data directory and checks it against
// the manifest.
func (s *Source) stagePart(ctx context.Context, store Store, dataDir string, r Run, p Part, now time.Time, progress Progress) (*usage.Staged, error) {
	key, err := s.PartKey(ctx, r, p)
	if err != nil {
		return nil, err
	}
	rd, size, err := s.OpenPart(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	if p.ByteCount > 0 && size != p.ByteCount {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "%s: export run %s: part %s has %d bytes, the manifest says byteCount %d; nothing was imported",
			s.URL, r.ManifestKey, key, size, p.ByteCount)
	}
	name := s.URL + " " + key // how errors name the part
	var wrap func(io.Reader) io.Reader
	if progress != nil {
		wrap = func(in io.Reader) io.Reader { return progress(path.Base(key), size, in) }
	}
	st, err := usage.Stage(ctx, store, dataDir, usage.FOCUS, name, rd, now, wrap)
	if err != nil {
		return nil, err
	}
	if p.DataRowCount > 0 && st.Import.Rows != p.DataRowCount {
		st.Discard()
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "%s: export run %s: part %s holds %d rows, the manifest says dataRowCount %d; nothing was imported",
			s.URL, r.ManifestKey, key, st.Import.Rows, p.DataRowCount)
	}
	return st, nil
}

// ImportURL opens the source at url and imports every run found there
// that was not imported before, oldest first, telling done of each. A run
// that fails (or whose manifest cannot be read) is named in the error and
// the others are still imported: runs supersede by submission time, not by
// the order they arrive (docs/usage-sources.md). It returns how many runs
// it found.
func ImportURL(ctx context.Context, url string, store Store, dataDir string, now time.Time, progress Progress,
	done func(Run, *Imported)) (int, error) {
	src, err := Open(ctx, url)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	runs, err := src.Runs(ctx)
	if runs == nil && err != nil {
		return 0, err
	}
	errs := []error{err}
	for _, r := range runs {
		res, err := src.Import(ctx, store, dataDir, r, now, progress)
		if err != nil {
			if ctx.Err() != nil {
				return len(runs), err
			}
			errs = append(errs, err)
			continue
		}
		done(r, res)
	}
	return len(runs), errors.Join(errs...)
}
