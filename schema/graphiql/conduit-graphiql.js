// Starts GraphiQL (loaded before this file, with React and ReactDOM) from the page's JSON
// configuration: a separate file rather than an inline script, which the page's
// Content-Security-Policy forbids.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("graphiql-config").textContent);
  // Subscriptions go over a WebSocket to the same path. GraphiQL 4.1 opens one for each
  // subscription, with the headers it is given as the connection_init payload, which is where
  // the server takes the token from (a browser cannot set a WebSocket's own headers).
  var sockets = location.protocol === "https:" ? "wss://" : "ws://";
  var send = GraphiQL.createFetcher({
    url: config.url,
    subscriptionUrl: sockets + location.host + config.url,
  });

  // The headers editor starts with a hint in place of a token; sent as it is, every operation
  // would be refused (a token that is not one is never taken as anonymous), and a subscription's
  // connection closed (4403).
  function fetcher(params, options) {
    var headers = Object.assign({}, options && options.headers);
    if (headers.Authorization === config.authorizationHint) {
      delete headers.Authorization;
    }
    return send(params, Object.assign({}, options, { headers: headers }));
  }

  // GraphiQL 4.1 fills the variables editor at start from its variables prop or its storage,
  // not from the first of defaultTabs, so that tab would run without its example variables.
  // Given only on a first visit: later, GraphiQL restores the tabs it stored, and a variables
  // prop that matches none of them would open a tab of its own.
  function tabsStored() {
    try {
      return window.localStorage.getItem("graphiql:tabState") !== null;
    } catch (error) {
      return false; // no storage: GraphiQL starts from defaultTabs every time
    }
  }

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultTabs: config.tabs,
      variables: tabsStored() ? undefined : config.tabs[0].variables,
      defaultQuery: config.defaultQuery,
      defaultHeaders: config.headers,
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      inputValueDeprecation: true,
    })
  );
})();
