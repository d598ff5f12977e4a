package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestScriptsInsertServerStringsAsText: names, chat text, reasons and
// error messages come from other users or the server; the client must
// insert them with textContent, never parse them as HTML. Every script
// the page loads is checked for the ways of parsing HTML.
func TestScriptsInsertServerStringsAsText(t *testing.T) {
	asHTML := regexp.MustCompile(`\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|createContextualFragment|\beval\(|new Function\(`)
	index, err := fs.ReadFile(static, "static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`<script type="module" src="/app.js">`).Match(index) {
		t.Fatal("index.html does not load app.js as a module")
	}
	// Modules import each other, so every script of web/static is checked,
	// not only those index.html names.
	names, err := fs.Glob(static, "static/*.js")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 8 {
		t.Fatalf("web/static has %d scripts, want app.js, session.js and the features", len(names))
	}
	for _, name := range names {
		src, err := fs.ReadFile(static, name)
		if err != nil {
			t.Fatal(err)
		}
		m := []string{"", strings.TrimPrefix(name, "static/")}
		for i, line := range strings.Split(string(src), "\n") {
			if asHTML.MatchString(line) {
				t.Errorf("%s:%d parses a string as HTML: %s", m[1], i+1, strings.TrimSpace(line))
			}
		}
	}
}
