// Command requestdecode reads JSON request bodies as Ollama's handlers do (a json.Decoder's
// first value decoded into the request struct; api/types.go) and prints what Ollama would read
// from the fields request rules may touch, one line per case, for the differential test in
// Bodies/RequestRulesGoReferenceTests.cs. Standard library only.
//
// The struct is shaped like Ollama's ChatRequest/GenerateRequest: the pointer fields (keep_alive
// is a *Duration, think a *ThinkValue) are *json.RawMessage here, which Go sets back to nil on
// null as it does those; options is the same map[string]any, whose nil values Options.FromMap
// skips, so they are left out of the output.
//
// Input on stdin, per case: a line "<length>" followed by that many bytes.
// Output on stdout, per case: a JSON object {"ok":true,"top":{...},"options":{...}} with each
// top-level field Go read (compacted) and each options entry (re-encoded), or {"ok":false}.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

type request struct {
	Model     string           `json:"model"`
	KeepAlive *json.RawMessage `json:"keep_alive"`
	Think     *json.RawMessage `json:"think"`
	Format    *json.RawMessage `json:"format"`
	Messages  *json.RawMessage `json:"messages"`
	Options   map[string]any   `json:"options"`
}

func main() {
	in := bufio.NewReader(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for {
		body, err := readBlock(in)
		if err == io.EOF {
			return
		}
		if err != nil {
			fail(err)
		}
		line, err := json.Marshal(decode(body))
		if err != nil {
			fail(err)
		}
		out.Write(line)
		out.WriteString("\n")
	}
}

func decode(body []byte) map[string]any {
	var r request
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&r); err != nil {
		return map[string]any{"ok": false}
	}
	top := map[string]any{}
	for name, value := range map[string]*json.RawMessage{"keep_alive": r.KeepAlive, "think": r.Think, "format": r.Format, "messages": r.Messages} {
		if value != nil {
			var compact bytes.Buffer
			if err := json.Compact(&compact, *value); err != nil {
				fail(err)
			}
			top[name] = json.RawMessage(compact.Bytes())
		}
	}
	options := map[string]any{}
	for key, value := range r.Options {
		if value != nil {
			options[key] = value
		}
	}
	return map[string]any{"ok": true, "top": top, "options": options}
}

func readBlock(in *bufio.Reader) ([]byte, error) {
	line, err := in.ReadString('\n')
	if err != nil {
		if err == io.EOF && line == "" {
			return nil, io.EOF
		}
		return nil, err
	}
	length, err := strconv.Atoi(strings.TrimSuffix(line, "\n"))
	if err != nil {
		return nil, err
	}
	block := make([]byte, length)
	_, err = io.ReadFull(in, block)
	return block, err
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "requestdecode:", err)
	os.Exit(2)
}
