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
	scripts := regexp.MustCompile(`<script src="/([a-z]+\.js)"`).FindAllStringSubmatch(string(index), -1)
	if len(scripts) < 5 {
		t.Fatalf("index.html loads %d scripts, want app.js and its features", len(scripts))
	}
	for _, m := range scripts {
		src, err := fs.ReadFile(static, "static/"+m[1])
		if err != nil {
			t.Fatalf("index.html loads %s: %v", m[1], err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			if asHTML.MatchString(line) {
				t.Errorf("%s:%d parses a string as HTML: %s", m[1], i+1, strings.TrimSpace(line))
			}
		}
	}
}
