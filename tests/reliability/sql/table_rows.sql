-- Every row of one table, each as one string.
SELECT toString(tuple(*)) AS row_text
FROM {table:Identifier}
