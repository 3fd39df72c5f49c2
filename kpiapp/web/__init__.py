"""Request plumbing shared by every blueprint, by job: pages (htmx page-or-fragment,
downloads, language), headers, errors, refusals (the route hook and refusal audit), filters."""
