package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/partnerlink/partnerlink"
)

// Policy decides where webhooks may point (docs/operations.md, "Webhooks"):
// https only, no credentials in the URL, and only hosts whose every address
// is global unicast, unless the operator allowed the address range or the
// host name (serve --webhook-allow). The same rule is checked when a URL is
// set and again for each address the deliverer connects to, so a name that
// resolves elsewhere later (DNS rebinding) is refused at connect time.
type Policy struct {
	nets  []netip.Prefix
	hosts map[string]bool // lower-case host names allowed whatever they resolve to
	// Resolve looks a host name up; net.DefaultResolver when nil.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
}

// ParsePolicy reads --webhook-allow entries: each a CIDR (10.0.0.0/8), an
// address (127.0.0.1, ::1) or a host name (hooks.internal), several per
// entry separated by commas.
func ParsePolicy(entries []string) (*Policy, error) {
	p := &Policy{hosts: map[string]bool{}}
	for _, entry := range entries {
		for _, e := range strings.Split(entry, ",") {
			e = strings.TrimSpace(e)
			if e == "" {
				continue
			}
			if pfx, err := netip.ParsePrefix(e); err == nil {
				// Addresses are compared unmapped, so an IPv4-mapped CIDR
				// (::ffff:10.0.0.0/104) is kept as the IPv4 one it means.
				if pfx.Addr().Is4In6() {
					if pfx.Bits() < 96 {
						return nil, partnerlink.Errorf(partnerlink.EINVALID,
							"--webhook-allow %q: an IPv4-mapped CIDR needs at least 96 bits; give the IPv4 CIDR instead", e)
					}
					pfx = netip.PrefixFrom(pfx.Addr().Unmap(), pfx.Bits()-96)
				}
				p.nets = append(p.nets, pfx.Masked())
				continue
			}
			if a, err := netip.ParseAddr(strings.Trim(e, "[]")); err == nil {
				if a.Zone() != "" {
					return nil, partnerlink.Errorf(partnerlink.EINVALID, "--webhook-allow %q: an address with a zone is not accepted; give the address or a CIDR", e)
				}
				a = a.Unmap()
				p.nets = append(p.nets, netip.PrefixFrom(a, a.BitLen()))
				continue
			}
			if !validHostName(e) {
				return nil, partnerlink.Errorf(partnerlink.EINVALID,
					"--webhook-allow %q: expected a CIDR (10.0.0.0/8), an IP address (127.0.0.1) or a host name (hooks.example.internal)", e)
			}
			p.hosts[strings.ToLower(strings.TrimSuffix(e, "."))] = true
		}
	}
	return p, nil
}

func validHostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// nonGlobal are the ranges that are not global unicast beyond what
// netip.Addr's own predicates (loopback, private, link-local, multicast,
// unspecified) cover: IANA's special-purpose registries.
var nonGlobal = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
		"::/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "2002::/16",
		"3fff::/20", "5f00::/16", "fec0::/10",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Global reports whether a is a global unicast address a webhook may
// reach without being allowed.
func Global(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.Zone() != "" || a.IsLoopback() || a.IsPrivate() || a.IsUnspecified() || a.IsMulticast() ||
		a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() || !a.IsGlobalUnicast() {
		return false
	}
	for _, p := range nonGlobal {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// AllowedAddr reports whether a webhook may connect to a.
func (p *Policy) AllowedAddr(a netip.Addr) bool {
	a = a.Unmap()
	if p != nil {
		for _, n := range p.nets {
			if n.Contains(a) {
				return true
			}
		}
	}
	return Global(a)
}

func (p *Policy) allowedHost(host string) bool {
	return p != nil && p.hosts[strings.ToLower(strings.TrimSuffix(host, "."))]
}

// CheckSyntax checks what a URL says by itself: https, a host, no
// credentials, and an address literal that is allowed.
func (p *Policy) CheckSyntax(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "url %q is not a URL: %v", raw, err)
	}
	if u.Scheme != "https" || u.Opaque != "" || u.Host == "" {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "url %q: a webhook must be an https:// URL with a host, such as https://hooks.example.com/partnerlink", raw)
	}
	if u.User != nil {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "url %q: a webhook URL must not carry credentials (user:password@); the secret signs each delivery instead", redact(u))
	}
	host := u.Hostname()
	if p.allowedHost(host) {
		return u, nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !p.AllowedAddr(a) {
			return nil, refused(raw, host, a)
		}
	} else if !validHostName(host) {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "url %q: %q is not a valid host name", raw, host)
	}
	return u, nil
}

// CheckURL is CheckSyntax and, for a host name, a look-up: every address
// it resolves to must be allowed.
func (p *Policy) CheckURL(ctx context.Context, raw string) error {
	u, err := p.CheckSyntax(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if p.allowedHost(host) {
		return nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	// Whether a name does not resolve or resolves to an internal address is
	// not told apart to the caller (it would map the operator's internal
	// DNS); the log has the detail.
	addrs, err := p.resolve(ctx, host)
	if err == nil {
		for _, a := range addrs {
			if !p.AllowedAddr(a) {
				err = fmt.Errorf("resolves to %s, which is not allowed", a)
				break
			}
		}
	}
	if err != nil {
		slog.Default().Info("webhook URL refused", "host", host, "reason", err.Error())
		return partnerlink.Errorf(partnerlink.EINVALID,
			"url %q: the host %s does not resolve to a public address; a webhook host must resolve to public addresses only (the server's operator can allow others with serve --webhook-allow)", raw, host)
	}
	return nil
}

// resolve returns the addresses of host (an address literal is its own).
func (p *Policy) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var addrs []netip.Addr
	var err error
	if p != nil && p.Resolve != nil {
		addrs, err = p.Resolve(ctx, host)
	} else {
		addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	}
	if err == nil && len(addrs) == 0 {
		err = fmt.Errorf("%s has no address", host)
	}
	return addrs, err
}

func refused(raw, host string, a netip.Addr) error {
	return partnerlink.Errorf(partnerlink.EINVALID,
		"url %q: the host %s is (or resolves to) %s, which is not a public address (loopback, private, link-local, multicast and other special ranges are refused); the server's operator can allow it with serve --webhook-allow",
		raw, host, a)
}

func redact(u *url.URL) string {
	c := *u
	c.User = url.User("REDACTED")
	return c.String()
}

// Client returns the HTTP client deliveries use: it connects only to
// allowed addresses (checked on the address actually dialed), never
// through a proxy, follows no redirects (a 3xx answer is a failed
// attempt) and trusts roots (the system's when nil).
func (p *Policy) Client(roots *x509.CertPool) *http.Client {
	guarded := &net.Dialer{Timeout: 10 * time.Second, Control: func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("webhook: dial %s: %w", address, err)
		}
		if !p.AllowedAddr(ap.Addr()) {
			return fmt.Errorf("webhook: %s is not an allowed address (not public; see serve --webhook-allow)", ap.Addr())
		}
		return nil
	}}
	tr := &http.Transport{
		Proxy: nil,
		// Names are resolved here, and each address is dialed by the
		// guarded dialer, whose Control sees the address really connected to.
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			if p.allowedHost(host) {
				return (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, network, addr)
			}
			addrs, err := p.resolve(ctx, host)
			if err != nil {
				return nil, err
			}
			var firstErr error
			for _, a := range addrs {
				c, err := guarded.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
				if err == nil {
					return c, nil
				}
				if firstErr == nil {
					firstErr = err
				}
			}
			return nil, firstErr
		},
		TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// MinSecretLength is the fewest characters a webhook secret may have
// (partnerlink.MinWebhookSecretLength).
const MinSecretLength = partnerlink.MinWebhookSecretLength

// CheckSecret checks the secret that signs a tenant's webhook deliveries.
func CheckSecret(secret string) error {
	if n := utf8.RuneCountInString(secret); n < MinSecretLength {
		return partnerlink.Errorf(partnerlink.EINVALID,
			"secret: a webhook needs a secret of at least %d characters to sign its deliveries (this one has %d); receivers check the X-Partnerlink-Signature header with it", MinSecretLength, n)
	}
	return nil
}
