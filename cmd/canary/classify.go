package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/canary-gate/canary/internal/files"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/canary-gate/canary/classify"
	"github.com/urfave/cli/v3"
)

// maxPageBytes bounds what classify reads of one page or file.
const maxPageBytes = 8 << 20

func classifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "classify",
		Usage:     "tell which reviews version served each page, and whether the page was healthy",
		ArgsUsage: "FILE...|URL|-",
		Description: "Each argument is a saved page (FILE), a URL fetched once with GET, or - for standard input.\n" +
			"Versions: v1 no stars, v2 black stars, v3 red stars. Outcomes: ok, ratings-unavailable,\n" +
			"details-unavailable, reviews-unavailable, not-productpage, unrecognized, http-error, transport-error.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "one JSON object per line: source, version, outcome, reason"},
			&cli.StringFlag{Name: "rules", Usage: "classify with the rules in `FILE` (YAML) instead of the Bookinfo classifier"},
			&cli.StringFlag{Name: "version-header", Usage: "take the version from response header `NAME` (with --rules: when no rule names one)"},
		},
		Action: classifyAction,
	}
}

// pageClassifier is the classifier chosen by --rules and --version-header.
type pageClassifier func(status int, header http.Header, body []byte) classify.Result

func chooseClassifier(c *cli.Command) (pageClassifier, error) {
	rulesFile, header := c.String("rules"), c.String("version-header")
	switch {
	case rulesFile != "":
		data, err := files.Read(rulesFile, files.MaxConfig)
		if err != nil {
			return nil, usageError(fmt.Errorf("--rules %s: %w", rulesFile, unwrapPath(err)))
		}
		r, err := classify.ParseRules(rulesFile, data)
		if err != nil {
			return nil, usageError(err)
		}
		if header != "" {
			return nil, usageError(errors.New("--rules and --version-header: name the header in the rules file (version_header:) instead"))
		}
		return r.Classify, nil
	case header != "":
		return classify.VersionHeader(header).Classify, nil
	}
	return classify.Page, nil
}

func classifyAction(ctx context.Context, c *cli.Command) error {
	if c.NArg() == 0 {
		return usageError(errors.New("classify: want at least one FILE, URL or -"))
	}
	classifier, err := chooseClassifier(c)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, src := range c.Args().Slice() {
		res, err := classifySource(ctx, client, classifier, src)
		if err != nil {
			return err
		}
		if err := printClass(c.Writer, c.Bool("json"), src, res); err != nil {
			return err
		}
	}
	return nil
}

func classifySource(ctx context.Context, client *http.Client, classifier pageClassifier, src string) (classify.Result, error) {
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			return classify.Result{}, usageError(fmt.Errorf("classify: URL %q: %w", src, err))
		}
		resp, err := client.Do(req)
		if err != nil {
			// An unreachable target is data: that is what the page was.
			return classify.Transport(err), nil
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes))
		if err != nil {
			return classify.Transport(err), nil
		}
		return classifier(resp.StatusCode, resp.Header, body), nil
	}
	var body []byte
	var err error
	if src == "-" {
		body, err = io.ReadAll(io.LimitReader(os.Stdin, maxPageBytes))
	} else {
		body, err = readFileLimited(src)
	}
	if err != nil {
		return classify.Result{}, usageError(fmt.Errorf("classify: %s: %w", src, unwrapPath(err)))
	}
	// A saved page was served with 200: the status does not survive saving.
	return classifier(http.StatusOK, http.Header{}, body), nil
}

func readFileLimited(name string) ([]byte, error) {
	f, err := files.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxPageBytes))
}

// unwrapPath drops the path from *fs.PathError: the message names it already.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

type classLine struct {
	Source  string `json:"source"`
	Version string `json:"version"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
}

func printClass(w io.Writer, asJSON bool, src string, r classify.Result) error {
	line := classLine{Source: src, Version: r.Version, Outcome: r.Outcome.String(), Reason: r.Reason()}
	if asJSON {
		return json.NewEncoder(w).Encode(line)
	}
	version := line.Version
	if version == "" {
		version = "-"
	}
	_, err := fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", src, version, line.Outcome, line.Reason)
	return err
}
