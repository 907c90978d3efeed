// Package powerplatform holds the Power Platform and Customer Insights rule
// (docs/rules.md#power-platform): the ownership limits of each kind of resource, the reading of
// activity and unified-profile files (docs/api.md#activity-csv), and the monthly credit with
// its latest-partner choice, explanation and credit-at-risk report.
//
// The package is pure: it takes values and returns values, with no clock,
// no database and no network. The server keeps ownership history in its
// store and calls the change functions (SetOwner, AddCoOwner,
// RemoveCoOwner, Publish, ImportSolution) to compute the next history; the
// offline `partnerlink attribute --powerplatform` command builds a Model
// from the world document and streams activity through an Activity.
//
// Rules where docs/rules.md#power-platform is silent, decided here:
//
//   - Ownership history is append-only. A change at instant t closes the
//     periods it ends at t and opens the new ones at t; a change at an
//     instant before the latest instant already in the history is refused
//     (ECONFLICT), because history is never rewritten.
//   - Setting the owner to the principal that already is the owner, adding
//     a co-owner that already is one, or removing one that is not, is
//     refused with ECONFLICT. Publishing again by the current publisher, or
//     importing a solution again by the current owner, is a new event: the
//     period is closed and reopened at t, so the instant is kept as activity.
//   - Changing a canvas app's owner does not touch its co-owners, except
//     that a co-owner who becomes owner stops being a co-owner. A solution
//     import likewise leaves co-owners alone.
//   - "Activity from the ownership history" is the start of every period in
//     which the principal held any role on the resource: the instant it was
//     made owner, creator or publisher, or added as co-owner.
//   - A Customer Insights user is an attributed user for the whole month in
//     which it has any activity row on the instance.
//   - A link counts only while its principal exists in the directory and
//     its partner ID is registered and active: the qualifying period is
//     link ∩ attributed period ∩ principal period ∩ partner ID period ∩
//     month, as in the Azure rule (docs/rules.md#azure-attribution). A principal or partner ID absent
//     from the directory never qualifies. Credit goes to the linked ID
//     (location IDs are not rolled up here; reports roll them up).
//   - A link's creation time, for the tie-break, is the start of the unbroken
//     chain of periods of the same principal, tenant and partner ID (a
//     re-affirmation does not make a link newer).
//   - A candidate whose qualifying principals have no activity at all on
//     the resource up to the end of the month ranks below any candidate
//     with activity. Activity before the month counts ("at or before the end
//     of m"); activity on the first instant of the next month does not.
//   - Partner IDs are compared as numbers for "lowest partner ID" (shorter
//     digit strings are lower), then as strings.
//   - Activity rows for resources that are not in the world are not an
//     error; they are counted in the Summary so nothing is dropped silently.
//     A row whose tenant differs from the tenant the world gives the
//     resource is an error.
//
// Scale: an Activity keeps one 2-byte cell per distinct (resource, month,
// user), in a small map per (resource, month), so 10 million activity rows
// take a few hundred megabytes at most. BenchmarkMAU measures it:
//
//	go test -run '^$' -bench BenchmarkMAU -benchtime 10000000x ./powerplatform/
package powerplatform
