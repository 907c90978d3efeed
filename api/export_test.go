package api

// ExplainIndexBuilds counts the indexes explain has built.
func (h *Handler) ExplainIndexBuilds() int64 { return h.explainIndex.builds.Load() }

// PartnerAtRiskView is partnerAtRiskView.
var PartnerAtRiskView = partnerAtRiskView
