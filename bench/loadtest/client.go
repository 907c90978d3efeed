package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// requester sends one request and reads the whole answer into body.
type requester interface {
	do(req *http.Request, body *bytes.Buffer) (status int, err error)
	close()
}

// connClient speaks HTTP/1.1 on one keep-alive TLS connection, from the
// calling goroutine: net/http's Request.Write and ReadResponse on a
// tls.Conn. http.Transport runs two more goroutines per connection and
// hands every request and response between them; with the clients on the
// same two cores as the server, that scheduling was CPU the server did not
// get (bench links, GETs: 61–65 µs of the process's CPU per request through
// http.Transport, 51–54 µs this way; 31k → 36k reads/s). The server sees
// the same requests on the same kind of connection.
type connClient struct {
	addr string
	cfg  *tls.Config
	conn *tls.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
}

// requestTimeout bounds one request and its answer, as a client's
// ResponseHeaderTimeout would.
const requestTimeout = 30 * time.Second

func newConnClient(base *url.URL, cfg *tls.Config) *connClient {
	cfg = cfg.Clone()
	cfg.ServerName = base.Hostname()
	cfg.NextProtos = []string{"http/1.1"}
	return &connClient{addr: base.Host, cfg: cfg}
}

func (c *connClient) dial(ctx context.Context) error {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: requestTimeout}, Config: c.cfg}
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	c.conn = conn.(*tls.Conn)
	c.br, c.bw = bufio.NewReaderSize(c.conn, 16<<10), bufio.NewWriterSize(c.conn, 16<<10)
	return nil
}

// do sends req (which must have no body) and reads the answer; the
// connection is dialled on first use and again after an error or a
// "Connection: close". Unlike http.Transport it does not retry a request
// on a kept-alive connection the server has closed: that counts as an
// error (the server keeps idle connections 120 s; the bench's clients are
// never idle that long).
func (c *connClient) do(req *http.Request, body *bytes.Buffer) (int, error) {
	if c.conn == nil {
		if err := c.dial(req.Context()); err != nil {
			return 0, err
		}
	}
	if req.Body != nil {
		return 0, errors.New("loadtest: connClient sends requests without a body")
	}
	c.conn.SetDeadline(time.Now().Add(requestTimeout))
	conn := c.conn
	stop := context.AfterFunc(req.Context(), func() { conn.SetDeadline(time.Now()) }) // a cancelled run stops at once
	defer stop()
	err := req.Write(c.bw)
	if err == nil {
		err = c.bw.Flush()
	}
	if err != nil {
		c.close()
		return 0, fmt.Errorf("send %s %s: %w", req.Method, req.URL.Path, err)
	}
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		c.close()
		return 0, fmt.Errorf("read the answer to %s %s: %w", req.Method, req.URL.Path, err)
	}
	body.Reset()
	_, err = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil || resp.Close {
		c.close()
	}
	return resp.StatusCode, err
}

func (c *connClient) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// transportClient sends requests through an http.Client (HTTP/2, whose
// connections are shared).
type transportClient struct{ client *http.Client }

func (t transportClient) do(req *http.Request, body *bytes.Buffer) (int, error) {
	resp, err := t.client.Do(req)
	if err != nil {
		return 0, err
	}
	body.Reset()
	_, err = body.ReadFrom(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, err
}

func (t transportClient) close() { t.client.CloseIdleConnections() }
