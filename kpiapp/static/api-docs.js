// Swagger UI for /api/v1/docs: a static file, so the page needs no inline script (CSP).
document.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,  // never send the document to an outside validator
  });
});
