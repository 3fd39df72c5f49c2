"""One notification layer (docs/notifications.md): in-app, e-mail, DingTalk, Feishu, WeCom.

`services.notify` is the entry point for every event; `messages` holds what each key says;
`channels/` builds and signs the platform requests (pure); `delivery` sends them as jobs;
`digest` gathers a person's daily or weekly e-mail.
"""
