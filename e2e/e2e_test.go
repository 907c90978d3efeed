package e2e

import (
	"testing"
)

// TestSQLite runs every real client against a server on SQLite.
func TestSQLite(t *testing.T) {
	runAll(t, startServer(t, "sqlite", ""))
}

// TestPostgres runs every real client against a server on PostgreSQL
// (PARTNERLINK_TEST_POSTGRES, a fresh database per server).
func TestPostgres(t *testing.T) {
	dsn := postgresDSN(t)
	runAll(t, startServer(t, "postgres", dsn))
}

// runAll runs the clients one after another on one server: each acts as
// its own principals and removes its links at the end, so the next starts
// from a clean state.
func runAll(t *testing.T, e *env) {
	t.Run("GoSDK", func(t *testing.T) { testGoSDK(t, e) })
	t.Run("Python", func(t *testing.T) { testPython(t, e) })
	t.Run("AzCLI", func(t *testing.T) { testAzCLI(t, e) })
	t.Run("AzCLITenant", func(t *testing.T) { testAzCLITenant(t, e) })
	t.Run("OnboardCLI", func(t *testing.T) { testOnboardCLI(t, e) })
	t.Run("PartnerlinkCLI", func(t *testing.T) { testPartnerlinkCLI(t, e) })
	t.Run("DeviceCodeBrowser", func(t *testing.T) { testDeviceCodeBrowser(t, e) })
	t.Run("PortalBrowser", func(t *testing.T) { testPortalBrowser(t, e) })
	t.Run("PortalPages", func(t *testing.T) { testPortalPages(t, e) })
	t.Run("MSALCodeFlow", func(t *testing.T) { testMSALCodeFlow(t, e) })
	t.Run("Security", func(t *testing.T) { testSecurity(t, e) })
	t.Run("Webhook", func(t *testing.T) { testWebhook(t, e) })
	t.Run("RolesPython", func(t *testing.T) { testRolesPython(t, e) })
	t.Run("RolesAzCLI", func(t *testing.T) { testRolesAzCLI(t, e) })
}
