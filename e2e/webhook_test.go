package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink/demo"
)

// delivery is one webhook request as the customer's receiver saw it.
type delivery struct {
	Method, ContentType, Timestamp, Signature, DeliveryID string
	Body                                                  []byte
}

// linkNotification is the webhook body (partnerlink.LinkNotification).
type linkNotification struct {
	Type      string    `json:"type"`
	EventID   int64     `json:"eventId"`
	TenantID  string    `json:"tenantId"`
	ObjectID  string    `json:"objectId"`
	PartnerID string    `json:"partnerId"`
	Version   int       `json:"version"`
	At        time.Time `json:"at"`
}

// testWebhook checks that Woodgrove's webhook receives signed
// notifications when a partner links (and unlinks) a credential there.
func testWebhook(t *testing.T, e *env) {
	ctx := context.Background()
	received := make(chan delivery, 64)
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		received <- delivery{Method: r.Method, ContentType: r.Header.Get("Content-Type"), Timestamp: r.Header.Get("X-Partnerlink-Timestamp"),
			Signature: r.Header.Get("X-Partnerlink-Signature"), DeliveryID: r.Header.Get("X-Partnerlink-Delivery"), Body: body}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()
	const secret = "e2e-webhook-signing-secret"
	if err := e.srv.DB.SetTenantWebhook(ctx, demo.WoodgroveTenant, hook.URL, secret); err != nil {
		t.Fatalf("set webhook: %v", err)
	}
	defer e.srv.DB.SetTenantWebhook(ctx, demo.WoodgroveTenant, "", "")

	token := e.automationToken(t, demo.WoodgroveTenant)
	r := e.partnerCall(t, http.MethodPut, demo.GermanyPartnerID, token)
	if r.Status != http.StatusOK {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	link := r.partner(t)

	// Notifications of earlier links in the tenant (waiting for a webhook
	// until now) arrive too; this link's is the one with its version.
	created := waitForNotification(t, received, secret, func(n linkNotification) bool {
		return n.Type == "partnerlink.link.created" && n.ObjectID == demo.AutomationInWood && n.Version == link.Properties.Version
	})
	if created.TenantID != demo.WoodgroveTenant || created.PartnerID != demo.GermanyPartnerID ||
		created.Version != link.Properties.Version || created.EventID <= 0 || created.At.IsZero() {
		t.Errorf("created notification %+v; want partner %s version %d", created, demo.GermanyPartnerID, link.Properties.Version)
	}

	if r := e.partnerCall(t, http.MethodDelete, demo.GermanyPartnerID, token); r.Status != http.StatusOK {
		t.Fatalf("DELETE: %d %s", r.Status, r.Body)
	}
	deleted := waitForNotification(t, received, secret, func(n linkNotification) bool {
		return n.Type == "partnerlink.link.deleted" && n.ObjectID == demo.AutomationInWood && n.Version > link.Properties.Version
	})
	if deleted.TenantID != demo.WoodgroveTenant || deleted.PartnerID != demo.GermanyPartnerID || deleted.EventID <= created.EventID {
		t.Errorf("deleted notification %+v; want partner %s and a later event than %d", deleted, demo.GermanyPartnerID, created.EventID)
	}
}

// waitForNotification waits (bounded) for a notification that matches,
// checking the signature of every delivery it reads. Other notifications
// (earlier links in the tenant, delivered once the webhook is set) are
// checked and passed over.
func waitForNotification(t *testing.T, received <-chan delivery, secret string, match func(linkNotification) bool) linkNotification {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case d := <-received:
			checkSignedDelivery(t, d, secret)
			var n linkNotification
			if err := json.Unmarshal(d.Body, &n); err != nil {
				t.Fatalf("webhook body %s: %v", d.Body, err)
			}
			if match(n) {
				return n
			}
		case <-deadline:
			t.Fatal("no matching notification within 20 s")
		}
	}
}

// checkSignedDelivery verifies a delivery as a receiver would:
// X-Partnerlink-Signature = "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
func checkSignedDelivery(t *testing.T, d delivery, secret string) {
	t.Helper()
	if d.Method != http.MethodPost || d.ContentType != "application/json" || d.DeliveryID == "" {
		t.Errorf("webhook request: %s, Content-Type %q, delivery id %q", d.Method, d.ContentType, d.DeliveryID)
	}
	ts, err := strconv.ParseInt(d.Timestamp, 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		t.Errorf("webhook timestamp %q is not a current Unix time", d.Timestamp)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(d.Timestamp + "."))
	m.Write(d.Body)
	want := "sha256=" + hex.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(d.Signature), []byte(want)) {
		t.Errorf("webhook signature %q does not verify (want %q) for body %s", d.Signature, want, d.Body)
	}
}
