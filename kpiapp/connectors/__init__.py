"""Live marketplace connectors (docs/connectors.md): pull reports from the platforms' APIs and
feed them to the same parsers and importers as uploads."""
