"""The header of a small demo rule file, shared by tests that write one to check how a rule file is read."""

DEMO_HEADER = """title: 测试
title_en: Test
program: demo
program_title: 测试项目
jurisdiction: national
version: "1"
status: stable
effective_from: 2020-01-01
references:
  - document: 测试文件
"""
"""Everything a rule set needs before its ``id`` (written by each test) and its criteria."""
