package api

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/report"
)

// The monthly reports over HTTPS (docs/api.md, "Reports"): the partner's
// (members of its home tenants), the customer's (readers at the tenant's
// root), and with the admin key the program's, every partner's and
// tenant's, the versions and the close itself.

func (h *Handler) reports() *report.Service {
	if h.Reports != nil {
		return h.Reports()
	}
	return &report.Service{Store: h.Store, DataDir: h.DataDir, Now: h.Now, CloseDay: h.CloseDay, Workers: 2}
}

// readReport reads ?version=N of {month} (the latest by default) and
// checks ?format= against the report's formats (json by default).
func (h *Handler) readReport(r *http.Request, name string, formats ...string) (*report.Published, string, error) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = report.FormatJSON
	}
	if err := report.CheckFormat(name, format, formats...); err != nil {
		return nil, "", err
	}
	months, err := report.Months(r.PathValue("month"), "")
	if err != nil {
		return nil, "", err
	}
	version := 0
	if v := r.URL.Query().Get("version"); v != "" {
		if version, err = strconv.Atoi(v); err != nil || version < 1 {
			return nil, "", partnerlink.Errorf(partnerlink.EINVALID, "version %q: expected a version number (1, 2, …)", v)
		}
	}
	ps, err := h.reports().Read(r.Context(), months, version)
	if err != nil {
		return nil, "", err
	}
	return &ps[0], format, nil
}

// writeReport answers a rendered report: CSV as text/csv, JSON as JSON.
func writeReport(w http.ResponseWriter, format string, write func(b *bytes.Buffer) error) error {
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return err
	}
	if format == report.FormatJSON {
		w.Header().Set("Content-Type", "application/json")
	} else {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	}
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(b.Bytes())
	return err
}

var partnerReportFormats = []string{report.FormatJSON, report.FormatCSV, report.FormatPartnerCenter}

// partnerReport: GET /api/v1/partners/{partner}/reports/{month}.
func (h *Handler) partnerReport(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	if _, err := h.partnerAccess(r, c); err != nil {
		return err
	}
	return h.servePartnerReport(w, r)
}

func (h *Handler) servePartnerReport(w http.ResponseWriter, r *http.Request) error {
	p, format, err := h.readReport(r, "partner", partnerReportFormats...)
	if err != nil {
		return err
	}
	ids, err := p.Content.Organization(r.PathValue("partner"))
	if err != nil {
		return err
	}
	rep, err := report.ForPartner(p.Content, p.Version.Version, ids)
	if err != nil {
		return err
	}
	return writeReport(w, format, func(b *bytes.Buffer) error { return report.WritePartner(b, []*report.PartnerReport{rep}, format) })
}

// partnerUnlinkedReport: GET /api/v1/partners/{partner}/reports/{month}/unlinked.
func (h *Handler) partnerUnlinkedReport(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	if _, err := h.partnerAccess(r, c); err != nil {
		return err
	}
	p, format, err := h.readReport(r, "unlinked", report.FormatJSON, report.FormatCSV)
	if err != nil {
		return err
	}
	rep, err := report.ForUnlinked(p.Content, p.Version.Version, r.PathValue("partner"))
	if err != nil {
		return err
	}
	return writeReport(w, format, func(b *bytes.Buffer) error { return report.WriteUnlinked(b, []*report.UnlinkedReport{rep}, format) })
}

var customerReportFormats = []string{report.FormatJSON, report.FormatCSV}

// tenantReport: GET /api/v1/tenants/{tenant}/reports/{month}.
func (h *Handler) tenantReport(w http.ResponseWriter, r *http.Request, c partnerlink.Caller) error {
	if _, err := h.tenantAccess(r, c, readLinks); err != nil {
		return err
	}
	return h.serveTenantReport(w, r)
}

func (h *Handler) serveTenantReport(w http.ResponseWriter, r *http.Request) error {
	tenant, err := partnerlink.ParseGUID("tenant", r.PathValue("tenant"))
	if err != nil {
		return err
	}
	p, format, err := h.readReport(r, "customer", customerReportFormats...)
	if err != nil {
		return err
	}
	if err := p.Content.HasTenant(tenant); err != nil {
		return err
	}
	rep, err := report.ForCustomer(p.Content, p.Version.Version, tenant)
	if err != nil {
		return err
	}
	return writeReport(w, format, func(b *bytes.Buffer) error { return report.WriteCustomer(b, []*report.CustomerReport{rep}, format) })
}

// adminProgramReport: GET /api/v1/admin/reports/{month}/program.
func (h *Handler) adminProgramReport(w http.ResponseWriter, r *http.Request) error {
	p, format, err := h.readReport(r, "program", report.FormatJSON, report.FormatCSV)
	if err != nil {
		return err
	}
	rep, err := report.ForProgram(p.Content, p.Version.Version)
	if err != nil {
		return err
	}
	return writeReport(w, format, func(b *bytes.Buffer) error { return report.WriteProgram(b, []*report.ProgramReport{rep}, format) })
}

// VersionView is a published version as listed.
type VersionView struct {
	Month       string `json:"month"`
	Version     int    `json:"version"`
	PublishedAt string `json:"publishedAt"`
	SHA256      string `json:"sha256"`
	Restated    string `json:"restated"`
}

// adminReportVersions: GET /api/v1/admin/reports[?month=YYYY-MM].
func (h *Handler) adminReportVersions(w http.ResponseWriter, r *http.Request) error {
	month := r.URL.Query().Get("month")
	if month != "" {
		if _, err := partnerlink.ParseMonth(month); err != nil {
			return partnerlink.Errorf(partnerlink.EINVALID, "month: %v", err)
		}
	}
	vs, err := h.Store.ReportVersions(r.Context(), month)
	if err != nil {
		return err
	}
	out := []VersionView{}
	for _, v := range vs {
		restated, err := report.RestatementSummary(v.Restatement)
		if err != nil {
			return err
		}
		out = append(out, VersionView{Month: v.Month, Version: v.Version, PublishedAt: v.PublishedAt.Format("2006-01-02T15:04:05.999999999Z"),
			SHA256: v.Hash, Restated: restated})
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": out})
	return nil
}

// adminClose: POST /api/v1/admin/closes {"month":"2026-03","early":false}.
func (h *Handler) adminClose(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Month string `json:"month"`
		Early bool   `json:"early"`
	}
	if err := decode(r, &body); err != nil {
		return err
	}
	month, err := partnerlink.ParseMonth(body.Month)
	if err != nil {
		return partnerlink.Errorf(partnerlink.EINVALID, "month: %v", err)
	}
	if h.DataDir == "" {
		return partnerlink.Errorf(partnerlink.EINTERNAL, "no data directory")
	}
	out, err := h.reports().Close(r.Context(), month, body.Early)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"month": out.Version.Month, "version": out.Version.Version, "published": out.Published,
		"sha256": out.Version.Hash, "changes": out.Changes})
	return nil
}

// ClosedMonth is a month with published reports, as anyone signed in may
// list them: which months have reports, and their latest version.
type ClosedMonth struct {
	Month       string `json:"month"`
	Version     int    `json:"version"`
	PublishedAt string `json:"publishedAt"`
}

// closedMonths: GET /api/v1/reports (any token), newest month first.
func (h *Handler) closedMonths(w http.ResponseWriter, r *http.Request, _ partnerlink.Caller) error {
	vs, err := h.Store.ReportVersions(r.Context(), "")
	if err != nil {
		return err
	}
	out := []ClosedMonth{}
	for i := len(vs) - 1; i >= 0; i-- {
		if len(out) > 0 && out[len(out)-1].Month == vs[i].Month {
			continue // an older version of a month listed already
		}
		out = append(out, ClosedMonth{Month: vs[i].Month, Version: vs[i].Version, PublishedAt: instant(vs[i].PublishedAt)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": out})
	return nil
}

func instant(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.999999999Z") }

// VersionDetail is a version with what it restates of the one before.
type VersionDetail struct {
	VersionView
	Restatement *report.Restatement `json:"restatement,omitempty"`
}

// adminReportVersion: GET /api/v1/admin/reports/{month}/versions/{version}.
func (h *Handler) adminReportVersion(w http.ResponseWriter, r *http.Request) error {
	month, err := partnerlink.ParseMonth(r.PathValue("month"))
	if err != nil {
		return partnerlink.Errorf(partnerlink.EINVALID, "month: %v", err)
	}
	n, err := strconv.Atoi(r.PathValue("version"))
	if err != nil || n < 1 {
		return partnerlink.Errorf(partnerlink.EINVALID, "version %q: expected a version number (1, 2, …)", r.PathValue("version"))
	}
	vs, err := h.Store.ReportVersions(r.Context(), month.String())
	if err != nil {
		return err
	}
	i := slices.IndexFunc(vs, func(v partnerlink.ReportVersion) bool { return v.Version == n })
	if i < 0 {
		return partnerlink.Errorf(partnerlink.ENOTFOUND, "month %s has no version %d (it has %d)", month, n, len(vs))
	}
	v := vs[i]
	summary, err := report.RestatementSummary(v.Restatement)
	if err != nil {
		return err
	}
	out := VersionDetail{VersionView: VersionView{Month: v.Month, Version: v.Version, PublishedAt: instant(v.PublishedAt),
		SHA256: v.Hash, Restated: summary}}
	if len(v.Restatement) > 0 {
		out.Restatement = &report.Restatement{}
		if err := json.Unmarshal(v.Restatement, out.Restatement); err != nil {
			return fmt.Errorf("api: restatement of %s v%d: %w", v.Month, v.Version, err)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// CloseState is the monthly close as the operator sees it.
type CloseState struct {
	CloseDay int          `json:"closeDay"`
	LastPass *ClosePass   `json:"lastScheduledPass,omitempty"`
	Months   []MonthState `json:"months"`
}

// ClosePass is the outcome of the server's last scheduled close pass.
type ClosePass struct {
	At    string `json:"at"`
	Error string `json:"error,omitempty"`
}

// MonthState is one of the last 12 months: when it may close and its
// latest version, if any.
type MonthState struct {
	Month       string `json:"month"`
	OpensOn     string `json:"opensOn"`
	Versions    int    `json:"versions"`
	PublishedAt string `json:"publishedAt,omitempty"`
	Restated    string `json:"restated,omitempty"`
}

// adminCloses: GET /api/v1/admin/closes, the last 12 months newest first.
func (h *Handler) adminCloses(w http.ResponseWriter, r *http.Request) error {
	svc := h.reports()
	vs, err := h.Store.ReportVersions(r.Context(), "")
	if err != nil {
		return err
	}
	out := CloseState{CloseDay: cmp.Or(h.CloseDay, report.DefaultCloseDay), Months: []MonthState{}}
	if h.LastClosePass != nil {
		if at, passErr := h.LastClosePass(); !at.IsZero() {
			out.LastPass = &ClosePass{At: instant(at)}
			if passErr != nil {
				out.LastPass.Error = passErr.Error()
			}
		}
	}
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	current := partnerlink.MonthOf(now)
	for m := current - 1; m >= current-12; m-- {
		st := MonthState{Month: m.String(), OpensOn: svc.OpensOn(m).Format("2006-01-02")}
		for _, v := range vs {
			if v.Month == st.Month {
				st.Versions, st.PublishedAt = v.Version, instant(v.PublishedAt)
				if st.Restated, err = report.RestatementSummary(v.Restatement); err != nil {
					return err
				}
			}
		}
		out.Months = append(out.Months, st)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
