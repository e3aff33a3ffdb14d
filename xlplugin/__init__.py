"""The Excel face of duban: cell functions and button scripts over :mod:`workbook`.

Everything here is thin: read whole ranges, call the headless core, write whole
ranges. See the README for the three routes (classic desktop, xlwings Lite,
xlwings Server) and their licences.
"""
