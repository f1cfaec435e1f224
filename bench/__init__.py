"""Speed and memory benchmarks (run each as a script; see its docstring)."""
