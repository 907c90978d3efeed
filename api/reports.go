package api

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/report"
)

// The monthly reports over HTTPS (docs/api.md, "Reports"): the partner's
// (members of its home tenants), the customer's (readers at the tenant's
// root), and with the admin key the program's, every partner's and
// tenant's, the versions and the close itself.

func (h *Handler) reports() *report.Service {
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
