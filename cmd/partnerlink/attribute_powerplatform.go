package main

import (
	"fmt"
	"os"
	"time"

	"github.com/partnerlink/partnerlink/powerplatform"
	"github.com/partnerlink/partnerlink/world"
	"github.com/spf13/cobra"
)

// runPowerPlatformAttribute is `partnerlink attribute --powerplatform`: the
// Power Platform and Customer Insights credit of docs/rules.md#power-platform, written as docs/api.md#attribution-csv CSV on standard output. usagePaths are the docs/api.md#activity-csv activity and
// unified-profile files, told apart by their header (gzip accepted). Rows on
// resources the world does not list are summarised on standard error, never
// dropped silently. cmd is the attribute command, whose flags are already
// parsed into the other arguments.
func runPowerPlatformAttribute(m *Main, cmd *cobra.Command, worldPath string, usagePaths []string, from, to time.Time) error {
	wf, err := os.Open(worldPath)
	if err != nil {
		return fmt.Errorf("open world document: %w", err)
	}
	doc, err := world.Read(wf, worldPath)
	wf.Close()
	if err != nil {
		return err
	}
	sources := make([]powerplatform.Source, 0, len(usagePaths))
	for _, p := range usagePaths {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("open activity file: %w", err)
		}
		defer f.Close()
		sources = append(sources, powerplatform.Source{Name: p, R: f})
	}
	sum, err := powerplatform.Attribute(m.Stdout, doc, sources, from, to)
	if err != nil {
		return err
	}
	for _, u := range sum.UnknownResources {
		fmt.Fprintf(m.Stderr, "not credited: resource %s (tenant %s) is not in the world: %d activity rows, %d unified-profile rows\n",
			u.ID, u.TenantID, u.Rows, u.Profiles)
	}
	return nil
}
