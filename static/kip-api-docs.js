// Swagger UI for KIP's OpenAPI document, from static/ (no CDN, no inline script).
(function () {
  var element = document.getElementById("swagger-ui");
  if (!element || !window.SwaggerUIBundle) { return; }
  window.SwaggerUIBundle({ url: element.dataset.spec, domNode: element, deepLinking: true });
})();
