"""Server-rendered pages: parse the request, call one service, render a template."""
