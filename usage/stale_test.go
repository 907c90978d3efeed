package usage

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
)

// nullStore records imports in memory.
type nullStore struct {
	ims map[string]partnerlink.UsageImport
}

func (s *nullStore) UsageImportByHash(_ context.Context, h string) (*partnerlink.UsageImport, error) {
	if im, ok := s.ims[h]; ok {
		return &im, nil
	}
	return nil, partnerlink.Errorf(partnerlink.ENOTFOUND, "no import %s", h)
}
func (s *nullStore) UsageImportByContent(_ context.Context, kind, content string) (*partnerlink.UsageImport, error) {
	for _, im := range s.ims {
		if content != "" && im.Kind == kind && im.Content == content {
			return &im, nil
		}
	}
	return nil, partnerlink.Errorf(partnerlink.ENOTFOUND, "no import of these rows")
}
func (s *nullStore) RecordUsageImport(_ context.Context, im partnerlink.UsageImport) (bool, error) {
	s.ims[im.Hash] = im
	return true, nil
}
func (s *nullStore) UsageImports(context.Context, string, []string) ([]partnerlink.UsageImport, error) {
	return nil, nil
}

// docs/operations.md, "Usage files": the temporary file of an import that
// died (its lock gone with its process) is removed by the next import and at
// server start; the file of an import still running (locked) is not.
func TestStaleImportFilesAreRemoved(t *testing.T) {
	dataDir := t.TempDir()
	dir := filepath.Join(dataDir, "usage", "focus")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(name string, size int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, bytes.Repeat([]byte("x"), size), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	dead := write(tempPrefix+"1111", 2048)
	running := write(tempPrefix+"2222", 10)
	f, err := os.OpenFile(running, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := lockFile(f); err != nil { // an import in progress holds its file
		t.Fatal(err)
	}
	kept := write("0a1b.csv", 5) // an imported file

	csv := "ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,SubAccountId,ServiceName,BillingCurrency,EffectiveCost,BilledCost\n" +
		"2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,Usage,,/subscriptions/5a100000-0000-4000-8000-000000000000,Compute,EUR,1,1\n"
	if _, err := Import(context.Background(), &nullStore{ims: map[string]partnerlink.UsageImport{}}, dataDir, FOCUS, "u.csv",
		bytes.NewReader([]byte(csv)), time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("the file of an import that died is still there: %v", err)
	}
	for _, p := range []string{running, kept} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", filepath.Base(p), err)
		}
	}

	// At server start: the running import has died meanwhile (its lock is gone).
	f.Close()
	write(tempPrefix+"3333", 100)
	if err := os.MkdirAll(filepath.Join(dataDir, "usage", "activity"), 0o700); err != nil {
		t.Fatal(err)
	}
	n, size, err := RemoveStale(dataDir)
	if err != nil || n != 2 || size != 110 {
		t.Errorf("RemoveStale = %d files, %d bytes, %v; want 2 files of 110 bytes", n, size, err)
	}
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("RemoveStale removed an imported file: %v", err)
	}
	if n, _, err := RemoveStale(t.TempDir()); n != 0 || err != nil {
		t.Errorf("RemoveStale of a data directory without usage: %d, %v", n, err)
	}
}

// An import's cleanup running while another import creates its temporary
// file never takes that file: the file createLocked returns is locked and
// still under its name, however the two interleave.
func TestCreateLockedRacesCleanup(t *testing.T) {
	dir := t.TempDir()
	stop := make(chan struct{})
	cleaned := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				cleaned <- n
				return
			default:
				k, _, _ := removeStaleIn(dir)
				n += k
			}
		}
	}()
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			for i := 0; i < 300; i++ {
				f, err := createLocked(dir)
				if err != nil {
					errs <- err
					return
				}
				runtime.Gosched() // let the cleanup look at it
				ours, err := sameFile(f)
				if err != nil || !ours {
					errs <- fmt.Errorf("attempt %d: the cleanup took a running import's file (%v)", i, err)
					f.Close()
					return
				}
				os.Remove(f.Name())
				f.Close()
			}
			errs <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	close(stop)
	<-cleaned
}
