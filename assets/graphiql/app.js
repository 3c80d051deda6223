// partnerhub's GraphiQL: every asset comes from this server (no CDN), so the page works on a
// closed network and under the strict Content-Security-Policy it is served with.
(function () {
  'use strict';
  var endpoint = new URL('/graphql', window.location.href).toString();

  // The header editor starts with `Authorization: Bearer ` for the user to complete; until a
  // token follows, the header is left out so the schema still loads (anonymously).
  function withoutBlankToken(init) {
    var headers = Object.assign({}, (init && init.headers) || {});
    Object.keys(headers).forEach(function (name) {
      if (name.toLowerCase() === 'authorization' && /^\s*bearer\s*$/i.test(String(headers[name]))) {
        delete headers[name];
      }
    });
    return Object.assign({}, init, { headers: headers });
  }

  var fetcher = GraphiQL.createFetcher({
    url: endpoint,
    fetch: function (input, init) { return window.fetch(input, withoutBlankToken(init)); },
  });

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: '# Paste an API token after "Bearer " in the Headers tab below, then run:\n{\n  viewer {\n    user {\n      displayName\n    }\n  }\n}\n',
      headers: JSON.stringify({ Authorization: 'Bearer ' }, null, 2),
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: 'headers',
    })
  );
})();
