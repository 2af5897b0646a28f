"""The demo company behind `costwarden demo`: a seeded, realistic AI-using organisation whose request logs and
CUR 2.0 bill agree, with labelled incidents and savings opportunities to find."""

from costwarden.demo.run import run_demo

__all__ = ["run_demo"]
