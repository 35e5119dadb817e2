//go:build cgo

package orderly_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// block returns the body of the only ```lang block of the README's
// "## Using it from Go" section.
func block(t *testing.T, readme, lang string) string {
	t.Helper()
	const title = "\n## Using it from Go\n"
	i := strings.Index(readme, title)
	if i < 0 {
		t.Fatalf("README.md has no %q section", strings.TrimSpace(title))
	}
	sec := readme[i+len(title):]
	if j := strings.Index(sec, "\n## "); j >= 0 {
		sec = sec[:j]
	}
	fence := "\n```" + lang + "\n"
	if strings.Count(sec, fence) != 1 {
		t.Fatalf("the section has %d ```%s blocks, want 1", strings.Count(sec, fence), lang)
	}
	body := sec[strings.Index(sec, fence)+len(fence):]
	return body[:strings.Index(body, "```\n")]
}

// The README's Go example is examples/readme/main.go, and prints what the
// README says it prints.
func TestReadmeGoExample(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join("examples", "readme", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	if got := block(t, string(readme), "go"); got != string(src) {
		t.Fatalf("README.md's Go example differs from examples/readme/main.go:\n%s", got)
	}
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "run", "./examples/readme")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go run ./examples/readme: %v\n%s", err, stderr.String())
	}
	if want := block(t, string(readme), "text"); out.String() != want {
		t.Fatalf("the example printed\n%s\nthe README says\n%s", out.String(), want)
	}
}
