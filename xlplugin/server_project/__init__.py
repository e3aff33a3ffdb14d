"""The xlwings-server project folder of ``duban serve`` (``XLWINGS_PROJECT_DIR`` points here).

xlwings-server imports the top-level packages ``custom_functions`` and
``custom_scripts`` from this folder, the ``custom`` auth provider from
``auth/custom`` and overrides of its static files and templates from
``static/`` and ``templates/``.
"""
