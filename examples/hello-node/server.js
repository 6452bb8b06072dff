// A tiny Express app: `dockyard up` detects the start script and runs it with $PORT.
const express = require("express");

const app = express();
const port = Number(process.env.PORT || 3000);

app.get("/", (_req, res) => res.type("text/plain").send("Hello from Dockyard (Node)\n"));
app.get("/health", (_req, res) => res.json({ status: "ok" }));

app.listen(port, "127.0.0.1", () => console.log(`listening on ${port}`));
