package main

import (
	"strings"
	"testing"
)

func TestSkipsAreListedWithTheirReasons(t *testing.T) {
	in := `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"p","Test":"TestA","Output":"    a_test.go:19: set X=1 to run it\n"}
{"Action":"output","Package":"p","Test":"TestA","Output":"--- SKIP: TestA (0.00s)\n"}
{"Action":"skip","Package":"p","Test":"TestA"}
{"Action":"pass","Package":"p","Test":"TestB"}
{"Action":"pass","Package":"p","Elapsed":0.5}
`
	var out strings.Builder
	if code := report(strings.NewReader(in), &out); code != 0 {
		t.Fatalf("exit %d", code)
	}
	want := "ok  \tp\t0.500s\n\n1 skipped:\n  p TestA: set X=1 to run it\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestAFailureIsShownAndFailsTheRun(t *testing.T) {
	in := `{"Action":"output","Package":"p","Test":"TestA","Output":"    a_test.go:3: boom\n"}
{"Action":"fail","Package":"p","Test":"TestA"}
{"Action":"fail","Package":"p","Elapsed":1}
`
	var out strings.Builder
	if code := report(strings.NewReader(in), &out); code != 1 || !strings.Contains(out.String(), "boom") || !strings.Contains(out.String(), "FAIL\tp") {
		t.Errorf("exit %d, output %q", code, out.String())
	}
}
