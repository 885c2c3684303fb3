"""The Qt desktop app. Widgets receive NumPy arrays and plain values through signals; slow work
runs in QObject workers on QThreads."""
