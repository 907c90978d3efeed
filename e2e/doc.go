// Package e2e holds partnerlink's end-to-end tests with real clients: the
// Azure Go SDK, the Azure Python SDK, az CLI, the partnerlink CLI and a
// headless Chromium. It is its own module so that the heavy test-only
// clients stay out of the main go.mod. Run: cd e2e && go test -count=1 ./...
package e2e
