package room

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestReasonsListsEveryReasonConstant fails when a Reason constant is
// declared in this package but missing from Reasons(), which metrics and
// the docs test rely on.
func TestReasonsListsEveryReasonConstant(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var declared []Reason
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			spec, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			if id, ok := spec.Type.(*ast.Ident); !ok || id.Name != "Reason" {
				return true
			}
			for _, v := range spec.Values {
				if lit, ok := v.(*ast.BasicLit); ok {
					s, _ := strconv.Unquote(lit.Value)
					declared = append(declared, Reason(s))
				}
			}
			return true
		})
	}
	if len(declared) == 0 {
		t.Fatal("found no Reason constants: the parser walk is broken")
	}
	for _, r := range declared {
		if !slices.Contains(Reasons(), r) {
			t.Errorf("Reason %q is declared but not in Reasons()", r)
		}
	}
	if len(declared) != len(Reasons()) {
		t.Errorf("%d Reason constants declared, Reasons() lists %d", len(declared), len(Reasons()))
	}
}

// TestReasonsMatchTheProtocolDocument keeps docs/protocol.md's table the
// one list of reasons: same reasons, same order.
func TestReasonsMatchTheProtocolDocument(t *testing.T) {
	doc, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(doc), "\n## Leave reasons\n")
	if !ok {
		t.Fatal(`docs/protocol.md has no "## Leave reasons" section`)
	}
	table, _, _ = strings.Cut(table, "\n## ")
	row := regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\|")
	var documented []Reason
	for _, m := range row.FindAllStringSubmatch(table, -1) {
		documented = append(documented, Reason(m[1]))
	}
	if !slices.Equal(documented, Reasons()) {
		t.Errorf("docs/protocol.md leave reasons %v\nReasons()                %v", documented, Reasons())
	}
}
