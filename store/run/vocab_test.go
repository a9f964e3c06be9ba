package run_test

import (
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"strconv"
	"testing"

	"golang.org/x/tools/go/packages"
)

// TestVocabularySpelledOnce ensures no code outside this package spells a
// word of the vocabulary as a string literal: every string constant that
// the type checker gives a type of this package (a State, an Outcome, a
// Step…) and whose value is one of the words declared here must be that
// constant instead. It reads the whole
// module, tests and generated views included.
func TestVocabularySpelledOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the whole module")
	}
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax |
		packages.NeedTypes | packages.NeedTypesInfo, Tests: true, Dir: "../.."}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		t.Fatal(err)
	}
	const self = "wsusfix/store/run"
	words := vocabulary(t, pkgs, self)
	seen := map[token.Position]bool{}
	checked := 0
	for _, p := range pkgs {
		for _, e := range p.Errors {
			t.Errorf("%s: %v", p.PkgPath, e)
		}
		if p.PkgPath == self || p.PkgPath == self+"_test" {
			continue
		}
		for _, f := range p.Syntax {
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING || lit.Value == `""` {
					return true // "" is every type's zero value, not a word
				}
				checked++
				tv, ok := p.TypesInfo.Types[lit]
				if !ok {
					return true
				}
				named, ok := tv.Type.(*types.Named)
				if !ok || named.Obj().Pkg() == nil || named.Obj().Pkg().Path() != self {
					return true
				}
				v, _ := strconv.Unquote(lit.Value)
				if !words[named.Obj().Name()][v] {
					return true // not a word of ours: a test's made-up step, say
				}
				pos := p.Fset.Position(lit.Pos())
				if seen[pos] {
					return true // a file compiled into a package and its test variant
				}
				seen[pos] = true
				t.Errorf("%s: %q spelled as a literal %s; use the constant of package run", pos, v, named.Obj().Name())
				return true
			})
		}
	}
	if checked == 0 {
		t.Fatal("no string literal found: the module was not loaded")
	}
}

// vocabulary maps each type of package self to the values of its constants.
func vocabulary(t *testing.T, pkgs []*packages.Package, self string) map[string]map[string]bool {
	t.Helper()
	for _, p := range pkgs {
		if p.PkgPath != self || p.Types == nil {
			continue
		}
		words := map[string]map[string]bool{}
		scope := p.Types.Scope()
		for _, name := range scope.Names() {
			c, ok := scope.Lookup(name).(*types.Const)
			if !ok {
				continue
			}
			named, ok := c.Type().(*types.Named)
			if !ok {
				continue
			}
			if words[named.Obj().Name()] == nil {
				words[named.Obj().Name()] = map[string]bool{}
			}
			words[named.Obj().Name()][constant.StringVal(c.Val())] = true
		}
		if len(words) > 0 {
			return words
		}
	}
	t.Fatalf("package %s not loaded", self)
	return nil
}
