def logistic_sum(r, x, n):
    s = 0.0
    for i in range(n):
        x = r * x * (1.0 - x)
        s = s + x
    return s


# The running sum of a logistic map, whose adjoint README shows: adjoint dump logmap.py:logistic_sum --wrt r,x
# --args "3.7, 0.3, 100" [--tape] (its lines are those README names: tests/test_readme.py checks them)
