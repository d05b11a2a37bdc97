// Package pagetest reads Bookinfo pages for tests: it extracts the features
// that tell versions, failures and pages apart (PageFeatures), so that the
// tests of package app (pages it renders) and of package mesh (pages the
// running mesh serves) can hold them to the real upstream fixtures. It is
// test support only; it imports no bookinfo package.
package pagetest
