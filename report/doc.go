// Package report renders the results of canary soak and canary report:
// windows of requests (results.Window), their alarms and the verdict over
// them, as text for a terminal, JSON, JUnit, Markdown for a CI job
// summary, or one offline HTML page with charts. It never decides: the
// alarms, the verdict and the intervals it draws are package decide's, and
// it shows the engine's numbers as they are.
package report
