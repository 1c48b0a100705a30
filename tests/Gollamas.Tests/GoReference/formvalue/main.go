// Command formvalue reads /v1/audio/transcriptions bodies as Ollama's TranscriptionMiddleware
// does (middleware/openai.go: Request.ParseMultipartForm(25 << 20), then FormValue("model"))
// and prints what Ollama would route by, one line per case, for the differential test in
// Forwarding/FormModelDifferentialTests.cs. Standard library only.
//
// Input on stdin, per case: a line "<n>" (the number of Content-Type header values), then n
// values and the body, each as a line "<length>" followed by that many bytes.
// Output on stdout, per case: "ok <hex of the model>" or "error <message>".
package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
)

func main() {
	in := bufio.NewReader(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for {
		count, err := readCount(in)
		if err == io.EOF {
			return
		}
		if err != nil {
			fail(err)
		}
		values := make([]string, count)
		for i := range values {
			value, err := readBlock(in)
			if err != nil {
				fail(err)
			}
			values[i] = string(value)
		}
		body, err := readBlock(in)
		if err != nil {
			fail(err)
		}
		fmt.Fprintln(out, formValue(values, body))
	}
}

func formValue(contentTypes []string, body []byte) string {
	request, err := http.NewRequest(http.MethodPost, "http://ollama/v1/audio/transcriptions", bytes.NewReader(body))
	if err != nil {
		fail(err)
	}
	if len(contentTypes) > 0 {
		request.Header["Content-Type"] = contentTypes
	}
	if err := request.ParseMultipartForm(25 << 20); err != nil {
		return "error " + strings.ReplaceAll(err.Error(), "\n", " ")
	}
	defer request.MultipartForm.RemoveAll()
	return "ok " + hex.EncodeToString([]byte(request.FormValue("model")))
}

func readCount(in *bufio.Reader) (int, error) {
	line, err := in.ReadString('\n')
	if err != nil {
		if err == io.EOF && line == "" {
			return 0, io.EOF
		}
		return 0, err
	}
	return strconv.Atoi(strings.TrimSuffix(line, "\n"))
}

func readBlock(in *bufio.Reader) ([]byte, error) {
	length, err := readCount(in)
	if err != nil {
		return nil, err
	}
	block := make([]byte, length)
	_, err = io.ReadFull(in, block)
	return block, err
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "formvalue:", err)
	os.Exit(2)
}
