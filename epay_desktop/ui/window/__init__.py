"""The main window and the widgets it is composed of: the banner, the filter bar, the refresh status,
the actions (declared as data, built in one place), the details and customer panels, the profile menu
and the opener of the window's dialogs. Imports nothing here at package level: ``first_window`` paints
before the heavy parts load.
"""
