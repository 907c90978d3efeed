package e2e

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	mp "github.com/Azure/azure-sdk-for-go/services/preview/managementpartner/mgmt/2018-02-01/managementpartner"
	"github.com/Azure/go-autorest/autorest"
	"github.com/Azure/go-autorest/autorest/azure"

	"github.com/partnerlink/partnerlink/demo"
)

// credAuthorizer bridges an azidentity credential to go-autorest: every
// request gets a bearer token from cred.GetToken (cached by azidentity).
type credAuthorizer struct {
	cred  azcore.TokenCredential
	scope string
}

func (a credAuthorizer) WithAuthorization() autorest.PrepareDecorator {
	return func(p autorest.Preparer) autorest.Preparer {
		return autorest.PreparerFunc(func(r *http.Request) (*http.Request, error) {
			r, err := p.Prepare(r)
			if err != nil {
				return r, err
			}
			tok, err := a.cred.GetToken(r.Context(), policy.TokenRequestOptions{Scopes: []string{a.scope}})
			if err != nil {
				return r, err
			}
			return autorest.Prepare(r, autorest.WithBearerAuthorization(tok.Token))
		})
	}
}

// cloudConfig points azidentity and ARM at the server.
func (e *env) cloudConfig() cloud.Configuration {
	return cloud.Configuration{
		ActiveDirectoryAuthorityHost: e.url + "/",
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: e.url, Audience: "https://management.core.windows.net/"},
		},
	}
}

// sdkError unpacks a go-autorest error: the HTTP status and the ARM error.
func sdkError(t *testing.T, err error) (status int, code, message string) {
	t.Helper()
	var de autorest.DetailedError
	if !errors.As(err, &de) {
		t.Fatalf("error %T is not an autorest.DetailedError: %v", err, err)
	}
	status, _ = de.StatusCode.(int)
	var re *azure.RequestError
	if !errors.As(de.Original, &re) || re.ServiceError == nil {
		t.Fatalf("error %v does not carry an azure.RequestError with the service error", err)
	}
	return status, re.ServiceError.Code, re.ServiceError.Message
}

// testGoSDK drives the track-1 Go SDK (go-autorest) with an azidentity
// ClientSecretCredential: Contoso's automation service principal in Fabrikam.
func testGoSDK(t *testing.T, e *env) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cred, err := azidentity.NewClientSecretCredential(demo.FabrikamTenant, demo.AutomationAppID, e.creds.AutomationSecret,
		&azidentity.ClientSecretCredentialOptions{
			ClientOptions:            azcore.ClientOptions{Cloud: e.cloudConfig(), Transport: e.client},
			DisableInstanceDiscovery: true,
		})
	if err != nil {
		t.Fatal(err)
	}
	auth := credAuthorizer{cred: cred, scope: armScope}
	partner := mp.NewPartnerClientWithBaseURI(e.url)
	partner.Authorizer, partner.Sender = auth, e.client
	partners := mp.NewPartnersClientWithBaseURI(e.url)
	partners.Authorizer, partners.Sender = auth, e.client
	ops := mp.NewOperationClientWithBaseURI(e.url)
	ops.Authorizer, ops.Sender = auth, e.client

	// Nothing linked yet: Partners_Get is a 404 NotFound.
	_, err = partners.Get(ctx)
	if err == nil {
		t.Fatal("partners.Get with nothing linked succeeded")
	}
	if status, code, msg := sdkError(t, err); status != 404 || code != "NotFound" || !strings.Contains(msg, "No partner ID is linked") {
		t.Fatalf("partners.Get with nothing linked: %d %s %q", status, code, msg)
	}

	// A malformed partner ID is refused before any lookup.
	_, err = partner.Create(ctx, "12ab")
	if err == nil {
		t.Fatal("Create(12ab) succeeded")
	}
	if status, code, msg := sdkError(t, err); status != 400 || code != "BadRequest" || !strings.Contains(msg, "12ab") {
		t.Fatalf("Create(12ab): %d %s %q", status, code, msg)
	}

	created, err := partner.Create(ctx, demo.GermanyPartnerID)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	checkSDKPartner(t, "Create", created, demo.GermanyPartnerID, "Contoso Services Germany", demo.FabrikamTenant, demo.AutomationInFab)
	v1 := *created.Version
	if *created.Etag != v1 || v1 < 1 {
		t.Errorf("Create: etag %d, version %d; want equal and ≥ 1", *created.Etag, v1)
	}

	got, err := partner.Get(ctx, demo.GermanyPartnerID)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	checkSDKPartner(t, "Get", got, demo.GermanyPartnerID, "Contoso Services Germany", demo.FabrikamTenant, demo.AutomationInFab)
	if *got.Version != v1 || !got.CreatedTime.Equal(created.CreatedTime.Time) {
		t.Errorf("Get: version %d created %v; want %d %v", *got.Version, got.CreatedTime, v1, created.CreatedTime)
	}

	current, err := partners.Get(ctx)
	if err != nil {
		t.Fatalf("partners.Get: %v", err)
	}
	checkSDKPartner(t, "partners.Get", current, demo.GermanyPartnerID, "Contoso Services Germany", demo.FabrikamTenant, demo.AutomationInFab)

	// Update replaces the single link with the new ID: version +1,
	// createdTime kept.
	updated, err := partner.Update(ctx, demo.NorwayPartnerID)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	checkSDKPartner(t, "Update", updated, demo.NorwayPartnerID, "Contoso Services Norway", demo.FabrikamTenant, demo.AutomationInFab)
	if *updated.Version != v1+1 || *updated.Etag != v1+1 {
		t.Errorf("Update: version %d etag %d, want %d", *updated.Version, *updated.Etag, v1+1)
	}
	if !updated.CreatedTime.Equal(created.CreatedTime.Time) {
		t.Errorf("Update: createdTime %v, want the original %v", updated.CreatedTime, created.CreatedTime)
	}
	if updated.UpdatedTime.Before(created.UpdatedTime.Time) {
		t.Errorf("Update: updatedTime %v is before the create's %v", updated.UpdatedTime, created.UpdatedTime)
	}
	// The old ID is no longer the link.
	if _, err := partner.Get(ctx, demo.GermanyPartnerID); err == nil {
		t.Error("Get of the replaced partner ID succeeded")
	} else if status, code, _ := sdkError(t, err); status != 404 || code != "NotFound" {
		t.Errorf("Get of the replaced partner ID: %d %s", status, code)
	}

	del, err := partner.Delete(ctx, demo.NorwayPartnerID)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if del.StatusCode != http.StatusOK {
		t.Errorf("Delete: status %d, want 200", del.StatusCode)
	}
	_, err = partner.Get(ctx, demo.NorwayPartnerID)
	if err == nil {
		t.Fatal("Get after Delete succeeded")
	}
	if status, code, msg := sdkError(t, err); status != 404 || code != "NotFound" || !strings.Contains(msg, "No partner ID is linked") {
		t.Fatalf("Get after Delete: %d %s %q", status, code, msg)
	}

	it, err := ops.ListComplete(ctx)
	if err != nil {
		t.Fatalf("operations: %v", err)
	}
	var names []string
	for ; it.NotDone(); err = it.NextWithContext(ctx) {
		if err != nil {
			t.Fatalf("operations page: %v", err)
		}
		op := it.Value()
		names = append(names, *op.Name)
		if op.Display == nil || *op.Display.Provider != "Microsoft ManagementPartner" {
			t.Errorf("operation %s: display %+v", *op.Name, op.Display)
		}
	}
	want := "Microsoft.ManagementPartner/partners/read Microsoft.ManagementPartner/partners/write " +
		"Microsoft.ManagementPartner/partners/action Microsoft.ManagementPartner/partners/delete"
	if strings.Join(names, " ") != want {
		t.Errorf("operations: %v, want %s", names, want)
	}
}

// checkSDKPartner asserts a PartnerResponse as the Go SDK decoded it.
func checkSDKPartner(t *testing.T, what string, p mp.PartnerResponse, partnerID, partnerName, tenant, object string) {
	t.Helper()
	if p.StatusCode != http.StatusOK {
		t.Errorf("%s: status %d", what, p.StatusCode)
	}
	if p.ID == nil || *p.ID != "/providers/microsoft.managementpartner/partners/"+partnerID {
		t.Errorf("%s: id %v", what, p.ID)
	}
	if p.Name == nil || *p.Name != partnerID || p.Type == nil || *p.Type != "Microsoft.ManagementPartner/partners" {
		t.Errorf("%s: name %v type %v", what, p.Name, p.Type)
	}
	if p.PartnerProperties == nil {
		t.Fatalf("%s: no properties", what)
	}
	if *p.PartnerID != partnerID || *p.PartnerName != partnerName || *p.TenantID != tenant || *p.ObjectID != object {
		t.Errorf("%s: partner %s (%s) tenant %s object %s; want %s (%s) %s %s", what,
			*p.PartnerID, *p.PartnerName, *p.TenantID, *p.ObjectID, partnerID, partnerName, tenant, object)
	}
	if p.State != mp.Active || p.Version == nil || p.Etag == nil || p.CreatedTime == nil || p.UpdatedTime == nil {
		t.Errorf("%s: state %q version %v etag %v created %v updated %v", what, p.State, p.Version, p.Etag, p.CreatedTime, p.UpdatedTime)
	}
}
