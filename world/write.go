package world

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Write writes doc canonically: every array sorted by its natural key,
// empty arrays as [], one space of indentation, a final newline, and no
// secrets. Writing what Read returns gives the same bytes again, so
// export → import → export is byte-identical. doc itself is not changed.
func Write(w io.Writer, doc *Document) error {
	c := Canonical(doc)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("encode world document: %w", err)
	}
	// Encode ends with a newline; the canonical form ends with "}" and none
	// (as the examples in the shared folder do).
	out := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("write world document: %w", err)
	}
	return nil
}

// Canonical returns a copy of doc in the form Write encodes: GUIDs
// lower-cased, instants in UTC, arrays sorted, nil arrays empty, secrets
// removed. doc is not changed.
func Canonical(doc *Document) *Document {
	c := *doc
	c.Version = CurrentVersion
	// Copy every array (and the inner arrays Normalize or sorting touch),
	// normalize the copy, then sort by the normalized keys.
	c.Partners = slices.Clone(doc.Partners)
	for i := range c.Partners {
		c.Partners[i].HomeTenantIDs = slices.Clone(c.Partners[i].HomeTenantIDs)
	}
	c.Tenants = slices.Clone(doc.Tenants)
	c.ManagementGroups = slices.Clone(doc.ManagementGroups)
	c.Subscriptions = slices.Clone(doc.Subscriptions)
	c.Principals = slices.Clone(doc.Principals)
	c.GroupMemberships = slices.Clone(doc.GroupMemberships)
	c.RoleDefinitions = slices.Clone(doc.RoleDefinitions)
	c.RoleAssignments = slices.Clone(doc.RoleAssignments)
	c.Delegations = slices.Clone(doc.Delegations)
	c.Links = slices.Clone(doc.Links)
	c.Environments = slices.Clone(doc.Environments)
	c.PowerPlatformResources = slices.Clone(doc.PowerPlatformResources)
	c.Ownership = slices.Clone(doc.Ownership)
	Normalize(&c)

	c.Partners = sorted(c.Partners, func(a, b Partner) int { return cmp.Compare(a.PartnerID, b.PartnerID) })
	for i := range c.Partners {
		c.Partners[i].HomeTenantIDs = nonNil(slices.Sorted(slices.Values(c.Partners[i].HomeTenantIDs)))
	}
	c.Tenants = sorted(c.Tenants, func(a, b Tenant) int { return cmp.Compare(a.TenantID, b.TenantID) })
	c.ManagementGroups = sorted(c.ManagementGroups, func(a, b ManagementGroup) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.Name, b.Name))
	})
	c.Subscriptions = sorted(c.Subscriptions, func(a, b Subscription) int { return cmp.Compare(a.SubscriptionID, b.SubscriptionID) })
	c.Principals = sorted(c.Principals, func(a, b Principal) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.ObjectID, b.ObjectID), compareFrom(a.From, b.From))
	})
	for i := range c.Principals {
		c.Principals[i].Secret = ""
	}
	c.GroupMemberships = sorted(c.GroupMemberships, func(a, b GroupMembership) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.GroupID, b.GroupID), cmp.Compare(a.MemberID, b.MemberID), compareFrom(a.From, b.From))
	})
	c.RoleDefinitions = sorted(c.RoleDefinitions, func(a, b RoleDefinition) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	for i := range c.RoleDefinitions {
		r := &c.RoleDefinitions[i]
		r.Actions = nonNil(slices.Clone(r.Actions))
		r.NotActions = nonNil(slices.Clone(r.NotActions))
		if len(r.DataActions) == 0 {
			r.DataActions = nil
		}
	}
	c.RoleAssignments = sorted(c.RoleAssignments, func(a, b RoleAssignment) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.ID, b.ID), compareFrom(a.From, b.From))
	})
	c.Delegations = sorted(c.Delegations, func(a, b Delegation) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), compareFrom(a.From, b.From))
	})
	c.Links = sorted(c.Links, func(a, b Link) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.ObjectID, b.ObjectID), compareFrom(a.From, b.From))
	})
	c.Environments = sorted(c.Environments, func(a, b Environment) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.EnvironmentID, b.EnvironmentID))
	})
	c.PowerPlatformResources = sorted(c.PowerPlatformResources, func(a, b PowerPlatformResource) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.EnvironmentID, b.EnvironmentID), cmp.Compare(a.ID, b.ID))
	})
	c.Ownership = sorted(c.Ownership, func(a, b Ownership) int {
		return cmp.Or(cmp.Compare(a.ResourceID, b.ResourceID), compareFrom(a.From, b.From), cmp.Compare(a.Role, b.Role), cmp.Compare(a.PrincipalID, b.PrincipalID))
	})
	return &c
}

// sorted sorts s in place and returns it, never nil (so it encodes as []).
// The sort is stable, so elements equal under the key keep document order.
func sorted[T any](s []T, f func(a, b T) int) []T {
	if s == nil {
		s = []T{}
	}
	slices.SortStableFunc(s, f)
	return s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// compareFrom orders period starts with null ("since always") first.
func compareFrom(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return a.Compare(*b)
}
