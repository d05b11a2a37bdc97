// Package app holds Bookinfo's applications as the local mesh runs them:
// productpage (its pages, sign-in and JSON API), details, ratings and
// reviews v1, v2 and v3, each an http.Handler that New builds from an Env
// and that answers as the upstream app does. RenderProductPage and
// RenderIndex render productpage's pages in either markup generation on
// their own, for tools that need the page without a mesh. The apps reach
// each other only through the http.Client in their Env, so this package
// imports neither the mesh nor the Istio resources.
package app
