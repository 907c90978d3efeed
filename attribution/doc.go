// Package attribution is the Azure attribution engine of docs/rules.md#azure-attribution: a grants
// index built once from a world document, usage rows streamed through it,
// credits aggregated per partner, resource and currency, and Explain for
// one partner, resource and day. It is pure: no SQL, no HTTP, no clock.
//
// Use:
//
//	ix, err := attribution.NewIndex(doc)            // once per world (or ReadIndex(r, name))
//	run, err := attribution.NewRun(ix, attribution.Options{From: from, To: to, Workers: 2})
//	err = run.Scan(file, "usage.csv.gz")            // any io.Reader, repeatable
//	res := run.Result()                             // credits sorted, summary of every row
//	err = res.WriteCSV(w)                          // docs/api.md#attribution-csv (or res.Credits())
//	e, err := ix.Explain("1234567", resourceID, day)
//
// How it is fast: every grant (partner, scope, period, can-write) is filed
// under its scope's lower-cased key; management group and tenant root
// scopes are expanded to each subscription below them when the index is
// built. A usage row then needs its subscription (a map keyed by the GUID's
// 16 bytes) and, once per distinct resource, the grants of the resource's
// ancestor scopes; after that a row costs a lookup in the run's resource cache
// (shared by the workers) keyed by the id as written, a scan of a few grants and one fixed-point
// decimal add.
//
// Work is spread over the cores by chunks of each file (1 MiB of whole
// records): any worker credits any subscription, so one month's single
// export file keeps every core busy, where partitioning by subscription
// would need a pass to route rows first. The workers share one registry of
// resources (sharded, locked only when a worker meets a resource it has
// not cached) and keep their credits apart by resource id, so crediting
// takes no lock. The merge is deterministic: sums are exact, a resource
// id's casing is its earliest occurrence by file and line, and the output
// order is the text order of its columns.
//
// Rules decided here where docs/rules.md#azure-attribution is silent:
//
//   - A location ID can be credited only while both it and its global ID
//     are active: deleting the global ID stops its locations too.
//   - A group's own existence period bounds the grants reached through it,
//     like the linked principal's.
//   - Incentive eligibility needs one grant that can write and covers the
//     whole charge period by itself; two grants that together cover it do
//     not make a row eligible.
//   - A role "can write" as partnerlink.CanWrite says: actions under
//     Microsoft.Support/ are not writes, so Reader, Cost Management Reader
//     and Billing Reader credit but are never incentive-eligible.
//   - A usage row without ResourceId is the subscription's own usage, its
//     ResourceId written as /subscriptions/{guid}. A ResourceId that is not
//     under its SubAccountId's path (a reservation order, say) is contained
//     only by an exact scope and by its subscription and above.
//   - The charge category filter is applied first, then the period; the
//     summary counts each row once, in the first bucket that excludes it.
//   - A resource id keeps the casing of its first occurrence among the rows
//     the run counts (right category, in the period, known subscription),
//     by file order then line.
//   - Output is sorted by comparing the written text byte by byte, column
//     by column (so partner ID "999" sorts after "1000001").
package attribution
