// Package partnerlink holds the domain of Partner Admin Link: identifiers,
// validity periods, scopes, the directory (tenants, principals, partners),
// links and the service interfaces the rest of the program implements.
//
// This package does no I/O. Stores (sqlite, postgres), the ARM wire surface
// (arm), the token service (identity) and the attribution engine
// (attribution) depend on it; it depends on none of them.
package partnerlink

// Version is the program version, set at build time with
// -ldflags "-X github.com/partnerlink/partnerlink.Version=…".
var Version = "dev"
