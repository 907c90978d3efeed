package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/client"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func init() { commands = append(commands, newLoginCmd, newLogoutCmd) }

// newLoginCmd is `partnerlink login`: sign in to a partnerlink server as a
// user (device code by default, or --username/--password) or as a service
// principal (--service-principal -u APPID -p SECRET), with az's flags.
func newLoginCmd(m *Main) *cobra.Command {
	var (
		tenant, username, password, server, caFile string
		servicePrincipal, useDeviceCode            bool
	)
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign in to a partnerlink server (device code, username and password, or service principal)",
		Long: `Sign in to a partnerlink server, like az login.

  partnerlink login --tenant T                          a person, with a device code
  partnerlink login --tenant T -u NAME -p PASSWORD      a person, with their password
  partnerlink login --service-principal -u APPID -p SECRET --tenant T

Without -p, the password or secret is asked for (read from standard input when it is not a
terminal).

The session is kept in $PARTNERLINK_CONFIG_DIR or ~/.partnerlink/session.json
(mode 0600, not encrypted: it holds the refresh token or the client secret).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := client.DefaultConfigDir()
			if err != nil {
				return err
			}
			opts := client.Options{Server: server, CAFile: resolveCAFile(caFile, m.DataDir), ConfigDir: dir}
			ctx := cmd.Context()
			if username != "" && password == "" && !useDeviceCode {
				// As az login does: the password (or secret) is asked for,
				// so that it stays out of the shell's history.
				if password, err = readSecret(m, "Password: "); err != nil {
					return err
				}
			}
			var s *client.Session
			switch {
			case servicePrincipal:
				if tenant == "" {
					return partnerlink.Errorf(partnerlink.EINVALID, "--tenant is required with --service-principal")
				}
				s, err = client.LoginServicePrincipal(ctx, opts, tenant, username, password)
			case username != "" || password != "":
				if useDeviceCode {
					return partnerlink.Errorf(partnerlink.EINVALID, "--use-device-code cannot be combined with --username/--password")
				}
				s, err = client.LoginPassword(ctx, opts, tenant, username, password)
			default:
				s, err = client.LoginDeviceCode(ctx, opts, tenant, func(dc client.DeviceCode) error {
					_, err := fmt.Fprintln(m.Stdout, dc.Message)
					return err
				})
			}
			if err != nil {
				return err
			}
			a := s.Account()
			if a.Kind == client.KindServicePrincipal {
				// Its tenant is the one signed in to, not the app's home.
				_, err = fmt.Fprintf(m.Stdout, "Signed in to %s as app %s (its service principal %s in tenant %s); default tenant %s.\n",
					s.Server(), a.Name, a.ObjectID, a.HomeTenantID, s.HomeTenant())
				return err
			}
			_, err = fmt.Fprintf(m.Stdout, "Signed in to %s as %s (object id %s, home tenant %s); default tenant %s.\n",
				s.Server(), a.Name, a.ObjectID, a.HomeTenantID, s.HomeTenant())
			return err
		},
	}
	f := cmd.Flags()
	f.StringVarP(&tenant, "tenant", "t", "", "tenant id to sign in to (required for a service principal; a user's home tenant when omitted)")
	f.StringVarP(&username, "username", "u", "", "user sign-in name, or the service principal's application id")
	f.StringVarP(&password, "password", "p", "", "user password, or the service principal's client secret")
	f.BoolVar(&servicePrincipal, "service-principal", false, "sign in as a service principal with a client secret")
	f.BoolVar(&useDeviceCode, "use-device-code", false, "sign in with a device code (the default for users)")
	f.StringVar(&server, "server", envOr("PARTNERLINK_SERVER", client.DefaultServer), "partnerlink server URL (env PARTNERLINK_SERVER)")
	f.StringVar(&caFile, "ca-file", os.Getenv("PARTNERLINK_CA_FILE"),
		"PEM file of the CA to trust for the server (env PARTNERLINK_CA_FILE; default <data-dir>/ca.pem if it exists, else the system roots)")
	return cmd
}

// resolveCAFile picks the CA bundle: the flag or environment, else the
// server's ca.pem in the data directory when it exists (a CLI on the
// server's own machine), else none (system roots).
func resolveCAFile(flag, dataDir string) string {
	if flag != "" {
		return flag
	}
	p := filepath.Join(dataDir, "ca.pem")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// newLogoutCmd is `partnerlink logout`: forget the session and its tokens.
func newLogoutCmd(m *Main) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Sign out: delete the saved session and its cached tokens",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := client.DefaultConfigDir()
			if err != nil {
				return err
			}
			if err := client.Logout(dir); err != nil {
				return err
			}
			_, err = fmt.Fprintln(m.Stdout, "Signed out.")
			return err
		},
	}
}

// readSecret reads a password from standard input: without echo, after a
// prompt on standard error, from a terminal; else the first line.
func readSecret(m *Main, prompt string) (string, error) {
	if f, ok := m.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(m.Stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(m.Stderr)
		return string(b), err
	}
	line, err := bufio.NewReader(m.Stdin).ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return "", partnerlink.Errorf(partnerlink.EINVALID, "no password: give --password, or type it when asked (or pipe it to standard input)")
	}
	return strings.TrimRight(line, "\r\n"), nil
}
