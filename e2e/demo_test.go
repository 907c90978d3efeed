package e2e

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink/demo"
)

// TestDemoCommands starts `partnerlink serve --demo` as a user would (the
// binary on the PATH, an empty working directory) and runs every command it
// prints, block by block, with bash: the partnerlink CLI, az and Python must
// all work as printed. A restart on the same directory keeps the demo and
// says so.
func TestDemoCommands(t *testing.T) {
	for _, tool := range []string{"az", "/usr/bin/python3", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing(t, "%s is not installed", tool)
		}
	}
	bin := partnerlinkBinary(t)
	work := t.TempDir()
	home := t.TempDir()
	env := append(baseEnv(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"), "HOME="+home,
		"PARTNERLINK_CONFIG_DIR="+filepath.Join(home, "partnerlink"), "AZURE_CORE_COLLECT_TELEMETRY=false")

	printed := serveDemo(t, work, env, "Demo world loaded")
	blocks := demoBlocks(printed)
	if len(blocks) != 5 {
		t.Fatalf("serve --demo printed %d blocks of commands, want 5 (service principal, alice, az, Python, attribution):\n%s", len(blocks), printed)
	}
	checks := []struct {
		name string
		want []string
	}{
		{"service principal", []string{"PartnerId", demo.GermanyPartnerID, "Contoso Services Germany", demo.AutomationInFab}},
		{"alice in every tenant", []string{demo.ContosoTenant, demo.FabrikamTenant, demo.WoodgroveTenant, "linked"}},
		{"az", []string{`"partnerId": "` + demo.GermanyPartnerID + `"`}},
		{"Python", []string{"'partner_id': '" + demo.NorwayPartnerID + "'"}},
		{"attribution", []string{"PartnerId,TenantId,SubAccountId,ResourceId", demo.SoloPartnerID, "checkout"}},
	}
	for i, c := range checks {
		script := blocks[i]
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			res := run(t, work, env, 5*time.Minute, "bash", "-euo", "pipefail", "-c", script)
			if res.ExitCode != 0 {
				t.Fatalf("the printed commands failed (exit %d):\n%s\nstdout:\n%s\nstderr:\n%s", res.ExitCode, redactScript(script), res.Stdout, res.Stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(res.Stdout, w) {
					t.Errorf("output of the printed commands lacks %q:\n%s", w, res.Stdout)
				}
			}
		})
	}
	// The user's own az configuration was never touched.
	if _, err := os.Stat(filepath.Join(home, ".azure")); err == nil {
		t.Errorf("the printed az commands wrote ~/.azure; they must use their own AZURE_CONFIG_DIR")
	}

	again := serveDemo(t, work, env, "Demo world kept from an earlier start")
	if strings.Contains(again, "Demo world loaded") {
		t.Errorf("a restart over kept data says the demo was loaded:\n%s", again)
	}
}

// serveDemo runs `partnerlink serve --demo` in dir until it has printed its
// demo text (ending with the device page line), checks that the text says
// want, and stops the server when the test ends.
func serveDemo(t *testing.T, dir string, env []string, want string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "partnerlink"), "serve", "--demo", "--addr", "127.0.0.1:0")
	cmd.Args[0] = "partnerlink" // as typed by a user who has it on the PATH
	cmd.Dir, cmd.Env = dir, env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		<-done
	})
	lines := make(chan string)
	go func() {
		defer close(done)
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		io.Copy(io.Discard, stdout)
		cmd.Wait()
	}()
	var out strings.Builder
	timeout := time.After(2 * time.Minute)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("serve --demo exited before printing its commands:\n%s\nstderr:\n%s", out.String(), stderr.String())
			}
			out.WriteString(l + "\n")
			if strings.HasPrefix(l, "Device code sign-in page:") {
				go func() { // keep reading so the server never blocks on stdout
					for range lines {
					}
				}()
				if !strings.Contains(out.String(), want) {
					t.Fatalf("serve --demo printed no %q:\n%s", want, out.String())
				}
				return out.String()
			}
		case <-timeout:
			t.Fatalf("serve --demo printed no commands within 2 minutes:\n%s\nstderr:\n%s", out.String(), stderr.String())
		}
	}
}

// demoBlocks cuts the demo text into the scripts it prints: each paragraph
// after the one that says "Demo world …", from its first indented line on (the lines after it
// that are not indented continue a quoted command, as Python's), dedented.
// Paragraphs without an indented line are not commands.
func demoBlocks(text string) []string {
	var blocks []string
	paras := strings.Split(strings.TrimSpace(text), "\n\n")
	for len(paras) > 0 && !strings.HasPrefix(paras[0], "Demo world") {
		paras = paras[1:] // the server's address and CA come first
	}
	for _, p := range paras[1:] {
		lines := strings.Split(p, "\n")
		first := -1
		for i, l := range lines {
			if strings.HasPrefix(l, "  ") {
				first = i
				break
			}
		}
		if first < 0 {
			continue
		}
		var script []string
		for _, l := range lines[first:] {
			script = append(script, strings.TrimPrefix(l, "  "))
		}
		blocks = append(blocks, strings.Join(script, "\n"))
	}
	return blocks
}

// redactScript hides the demo's secrets in a failure message.
func redactScript(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "-p '") || strings.Contains(l, "--password '") {
			l = l[:strings.Index(l, "'")] + "'…'"
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
