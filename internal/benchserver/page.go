package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/canary-gate/canary/bookinfo/app"
)

// renderedPage names the page served without -page.
const renderedPage = "bookinfo 1.22 reviews-v3 (rendered)"

// v3Page is what the local mesh's productpage shows with reviews v3 (red
// stars) in the 1.22 markup, with the synthetic pod name and review texts
// of bookinfo's golden pages: the page is byte for byte
// bookinfo/app/testdata/golden/1.22-v3.html, which page_test.go checks.
var v3Page = app.PageData{
	Details: &app.Details{Author: "William Shakespeare", Year: 1595, Type: "paperback", Pages: 200,
		Publisher: "PublisherA", Language: "English", ISBN10: "1234567890", ISBN13: "123-1234567890"},
	Reviews: []app.Review{
		{Reviewer: "Reviewer1", Text: "Review text number 1.", Rating: &app.Rating{Stars: 5, Color: "red"}},
		{Reviewer: "Reviewer2", Text: "Review text number 2.", Rating: &app.Rating{Stars: 4, Color: "red"}},
	},
	PodName:     "reviews-v3-5f7c9d6b8f-x9pvr",
	ClusterName: "null",
}

// loadPage returns the page to serve and its name: the file at path, or
// the rendered v3 page when path is empty.
func loadPage(path string) ([]byte, string, error) {
	if path != "" {
		page, err := os.ReadFile(path)
		if err != nil {
			return nil, "", fmt.Errorf("read page: %w", err)
		}
		return page, path, nil
	}
	var buf bytes.Buffer
	if err := app.RenderProductPage(&buf, app.Markup122, v3Page); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), renderedPage, nil
}
