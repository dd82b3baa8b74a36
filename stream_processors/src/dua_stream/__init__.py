"""Stream processing of data-usage-audit: the Faust processor and the violation notifier.

Importing this package never imports Faust: the processor lives in `dua_stream.processor`,
the notifier in `dua_stream.notifier`. The policy engine they run is `dua_policy`.
"""
