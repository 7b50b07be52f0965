"""The emails keepwarm sends: the weekly digest and post-meeting prompts.

`schedule` says when a digest is due, `digest` and `prompts` decide what goes in, `render`
turns that into a message, `outbox` makes each one exactly-once, `mailer` delivers it and
`plan`/`send` are what the scheduler's ticks and the send actor call.
"""
